import { describe, expect, it } from 'vitest';
import { parseSyncConfig, SyncConfigError } from '../../src/sync/config.js';

const file = 'mirror.yaml';

function errorOf(text: string): SyncConfigError {
  try {
    parseSyncConfig(text, file);
  } catch (error) {
    if (error instanceof SyncConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('reading a sync file', () => {
  it('reads defaults, registries and the three kinds of entries, entries overriding defaults', () => {
    const config = parseSyncConfig(
      [
        'defaults: { platforms: [linux/amd64, linux/arm64], referrers: true, digestTags: true, concurrency: 4 }',
        'registries:',
        '  localhost:5000: { plainHttp: true, usernameEnv: U, passwordEnv: P, requestsPerSecond: 2.5 }',
        'sync:',
        '  - source: registry.example.com/library/alpine',
        '    target: localhost:5000/mirror/alpine',
        "    tags: { allow: ['^3\\.'], deny: ['-rc'], semver: '>=3.18', latest: 5 }",
        '  - source: registry.example.com/team',
        '    target: localhost:5000/team',
        '    type: prefix',
        '    noClobber: true',
        '    referrers: false',
        '  - source: registry.example.com/tools/app:1.2.3',
        '    target: oci:./airgap',
        '    platforms: linux/amd64',
      ].join('\n'),
      file,
    );
    expect(config.concurrency).toBe(4);
    expect(config.registries.get('localhost:5000')).toEqual({
      plainHttp: true,
      usernameEnv: 'U',
      passwordEnv: 'P',
      requestsPerSecond: 2.5,
    });
    const [alpine, team, app] = config.entries;
    expect(alpine).toMatchObject({
      type: 'repository',
      line: 5,
      referrers: true,
      digestTags: true,
      noClobber: false,
    });
    expect(alpine?.tags).toEqual({ allow: ['^3\\.'], deny: ['-rc'], semver: '>=3.18', latest: 5 });
    expect(alpine?.platforms).toHaveLength(2);
    expect(team).toMatchObject({ type: 'prefix', noClobber: true, referrers: false, digestTags: true });
    expect(team?.source).toMatchObject({ registry: 'registry.example.com', repository: 'team' });
    expect(app).toMatchObject({ type: 'image', target: { kind: 'oci', path: './airgap' } });
    expect(app?.platforms).toEqual([{ os: 'linux', architecture: 'amd64' }]);
  });

  it('moves as many blobs at once as a single copy when the file sets no concurrency', () => {
    const config = parseSyncConfig('sync:\n  - { source: a.io/x, target: b.io/x }\n', file);
    expect(config.concurrency).toBe(6);
  });

  it('reads verify.key from defaults, and an entry may name another key', () => {
    const config = parseSyncConfig(
      [
        'defaults: { verify: { key: team.pub } }',
        'sync:',
        '  - { source: a.io/x, target: b.io/x }',
        '  - { source: a.io/y, target: b.io/y, verify: { key: other.pub } }',
      ].join('\n'),
      file,
    );
    expect(config.entries.map((entry) => entry.verify)).toEqual([{ key: 'team.pub' }, { key: 'other.pub' }]);
    const plain = parseSyncConfig('sync:\n  - { source: a.io/x, target: b.io/x }\n', file);
    expect(plain.entries[0]?.verify).toBeUndefined();
  });

  it('reads verify.identity as the repository a signature must name', () => {
    const config = parseSyncConfig(
      'sync:\n  - { source: a.io/x, target: b.io/x, verify: { key: k.pub, identity: docker.io/alpine } }\n',
      file,
    );
    expect(config.entries[0]?.verify).toEqual({
      key: 'k.pub',
      identity: { registry: 'docker.io', repository: 'library/alpine' },
    });
  });

  it.each([
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    noclobber: true\n',
      4,
      /unknown key "noclobber" in sync\[0\]/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    tags: { latest: 0 }\n',
      4,
      /sync\[0\]\.tags\.latest must be a whole number/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    tags: { allow: "([" }\n',
      4,
      /invalid allow regular expression/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    tags: { semver: "nope" }\n',
      4,
      /invalid semver range/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    platforms: [linux]\n',
      4,
      /invalid platform "linux"/,
    ],
    ['sync:\n  - source: a.io/x\n', 2, /sync\[0\] needs a target/],
    [
      'sync:\n  - source: a.io/x:1\n    target: b.io/x\n    type: prefix\n',
      2,
      /names a tag or digest, so it is one image/,
    ],
    ['sync:\n  - source: a.io/x\n    target: b.io/x:v1\n', 3, /names a tag, so its source must be one image/],
    ['sync:\n  - source: "a.io/X Y"\n    target: b.io/x\n', 2, /invalid reference/],
    [
      'defaults: { concurrency: -1 }\nsync:\n  - { source: a.io/x, target: b.io/x }\n',
      1,
      /defaults\.concurrency/,
    ],
    [
      'registries:\n  b.io: { usernameEnv: U }\nsync:\n  - { source: a.io/x, target: b.io/x }\n',
      2,
      /usernameEnv and passwordEnv/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    verify: { keyFile: k.pub }\n',
      4,
      /unknown key "keyFile" in sync\[0\]\.verify/,
    ],
    [
      'defaults: { verify: {} }\nsync:\n  - { source: a.io/x, target: b.io/x }\n',
      1,
      /defaults\.verify needs a key/,
    ],
    [
      'sync:\n  - source: a.io/x\n    target: b.io/x\n    verify: { key: k.pub, identity: Not/Lower }\n',
      4,
      /repository must be lowercase/,
    ],
    ['sync: []\n', 1, /sync must be a non-empty list/],
    ['sync:\n  - source: [a\n', 3, /Flow sequence/],
    ['mirror:\n  - {}\n', 1, /unknown key "mirror" in the sync file/],
  ])('refuses %j at line %i', (text, line, message) => {
    const error = errorOf(text);
    expect(error.code).toBe('USAGE');
    expect(error.message).toMatch(new RegExp(`^${file}:${line}: `));
    expect(error.message).toMatch(message);
  });
});
