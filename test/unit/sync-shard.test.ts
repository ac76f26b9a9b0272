import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseSyncConfig } from '../../src/sync/config.js';
import { expandEntries, imageName, inShard, parseShard } from '../../src/sync/plan.js';

const config = parseSyncConfig(
  'sync:\n  - { source: a.io/team, target: b.io/team, type: prefix }\n  - { source: a.io/solo, target: oci:/tmp/x }\n',
  'f.yaml',
);
const repositories = Array.from({ length: 40 }, (_, i) => `team/app-${i}`);
const lister = {
  tags: async () => ['1.0', '1.1', '2.0', `sha256-${'b'.repeat(64)}.sig`],
  catalog: async function* () {
    yield* [...repositories, 'other/x', 'teamless'];
  },
};

describe('sharding a sync', () => {
  it('parses I/N and refuses what is not a share', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '-1/2'])
      expect(() => parseShard(bad)).toThrow(UsageError);
  });

  it('splits the images into shares that cover them all with no overlap, the same on every run', async () => {
    const { images, failures } = await expandEntries(config, lister);
    expect(failures).toEqual([]);
    expect(images).toHaveLength(41 * 3);
    expect(images.map(imageName)).not.toContain(expect.stringContaining('sha256-'));
    expect(images.map(imageName)).not.toContain(expect.stringContaining('teamless'));
    const shares = await Promise.all(
      [1, 2, 3].map(async (index) =>
        (await expandEntries(config, lister, { index, count: 3 })).images.map(imageName),
      ),
    );
    const all = shares.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(new Set(images.map(imageName)));
    for (const share of shares) expect(share.length).toBeGreaterThan(images.length / 6);
    const again = images.filter((image) => inShard(image, { index: 2, count: 3 })).map(imageName);
    expect(again).toEqual(shares[1]);
  });

  it('maps a prefix entry repository by repository', async () => {
    const { images } = await expandEntries(config, lister);
    const first = images.find((image) => image.source.repository === 'team/app-7');
    expect(first?.destination).toMatchObject({ registry: 'b.io', repository: 'team/app-7' });
  });
});
