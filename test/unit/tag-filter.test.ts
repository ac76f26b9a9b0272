import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isDigestTag } from '../../src/tags/digest-tag.js';
import { compileTagFilter, sortBySemver, tagVersion } from '../../src/tags/filter.js';

const hex = 'a'.repeat(64);
const tags = [
  'latest',
  '3.17',
  '3.18',
  '3.18.4',
  '3.19',
  '3.19-rc1',
  '3.20.0',
  'v3.21.1',
  'edge',
  `sha256-${hex}.sig`,
];

describe('tag filters', () => {
  it('reads loose version tags and refuses others', () => {
    expect(tagVersion('3.18')?.version).toBe('3.18.0');
    expect(tagVersion('v1')?.version).toBe('1.0.0');
    expect(tagVersion('3.19-rc1')?.version).toBe('3.19.0-rc1');
    expect(tagVersion('1.2.3+build.5')?.version).toBe('1.2.3');
    for (const tag of ['latest', '1.2.3.4', 'v', '1.x', `sha256-${hex}`])
      expect(tagVersion(tag)).toBeUndefined();
  });

  it('knows the sha256-HEX tags of referrers and cosign, and nothing else', () => {
    expect(isDigestTag(`sha256-${hex}`)).toBe(true);
    expect(isDigestTag(`sha256-${hex}.att`)).toBe(true);
    expect(isDigestTag('sha256-abc')).toBe(false);
    expect(isDigestTag(`v1-sha256-${hex}`)).toBe(false);
  });

  it('sorts version tags oldest first and leaves the others out', () => {
    expect(sortBySemver(tags)).toEqual(['3.17', '3.18', '3.18.4', '3.19-rc1', '3.19', '3.20.0', 'v3.21.1']);
  });

  it('allows, denies, takes a semver range and the N newest', () => {
    expect(compileTagFilter({})(tags)).toEqual(tags);
    expect(compileTagFilter({ allow: ['^3\\.'], deny: ['-rc'] })(tags)).toEqual([
      '3.17',
      '3.18',
      '3.18.4',
      '3.19',
      '3.20.0',
    ]);
    expect(compileTagFilter({ semver: '>=3.18 <3.20' })(tags)).toEqual(['3.18', '3.18.4', '3.19']);
    expect(compileTagFilter({ latest: 2 })(tags)).toEqual(['3.20.0', 'v3.21.1']);
    expect(compileTagFilter({ allow: ['^3\\.'], semver: '>=3.18', latest: 2 })(tags)).toEqual([
      '3.19',
      '3.20.0',
    ]);
    expect(compileTagFilter({ excludeDigestTags: true })(tags)).not.toContain(`sha256-${hex}.sig`);
  });

  it('refuses a bad regular expression, range or count', () => {
    expect(() => compileTagFilter({ allow: ['(['] })).toThrow(UsageError);
    expect(() => compileTagFilter({ deny: ['(['] })).toThrow(/invalid deny regular expression/);
    expect(() => compileTagFilter({ semver: 'not a range' })).toThrow(/invalid semver range/);
    expect(() => compileTagFilter({ latest: 0 })).toThrow(UsageError);
  });
});
