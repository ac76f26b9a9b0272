import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Descriptor } from '../../src/oci/types.js';
import { staleDigestTags } from '../../src/sync/digest-tags.js';
import { type OciLayoutTarget, openOciLayout } from '../../src/targets/oci-layout.js';
import { type BuiltImage, buildImageLayout } from '../fixtures/images.js';
import { tempDir } from '../fixtures/temp.js';

const tagOf = (digest: string, suffix: string) => `${digest.replace(':', '-')}.${suffix}`;

let multi: BuiltImage;
let single: BuiltImage;

beforeAll(async () => {
  [multi, single] = await Promise.all([
    buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: 'v1' }),
    buildImageLayout({ tag: 'v1' }),
  ]);
});

/** A source and a destination, each a copy of the image's layout, so digest tags can be pointed freely. */
async function pair(image: BuiltImage): Promise<{ source: OciLayoutTarget; destination: OciLayoutTarget }> {
  const directory = await tempDir('tug-stale-');
  const copies = ['source', 'destination'].map((name) => join(directory, name));
  await Promise.all(copies.map((copy) => cp(image.layoutDir, copy, { recursive: true })));
  const [source, destination] = await Promise.all(copies.map((copy) => openOciLayout(copy)));
  return { source: source as OciLayoutTarget, destination: destination as OciLayoutTarget };
}

async function point(target: OciLayoutTarget, tag: string, digest: string): Promise<void> {
  await target.tag(await target.resolve(digest), tag);
}

describe('staleDigestTags', () => {
  it("names the index's and every platform's digest tags the destination lacks or holds elsewhere", async () => {
    const { source, destination } = await pair(multi);
    const [amd64 = '', arm64 = ''] = multi.manifestDigests;
    const tags = [
      tagOf(multi.rootDigest, 'sig'),
      tagOf(amd64, 'att'),
      tagOf(arm64, 'sbom'),
      tagOf('sha256:'.padEnd(71, '0'), 'sig'),
    ];
    await point(source, tags[0] as string, amd64);
    await point(source, tags[1] as string, amd64);
    await point(source, tags[2] as string, arm64);
    await point(destination, tags[1] as string, amd64);
    await point(destination, tags[2] as string, amd64);
    const root = await source.resolve('v1');
    const stale = await staleDigestTags(source, destination, root, [], ['v1', ...tags]);
    expect(stale).toEqual([tags[0], tags[2]]);
  });

  it("with platforms, names only the kept platforms' digest tags (the reduced index is a new digest)", async () => {
    const { source, destination } = await pair(multi);
    const [amd64 = '', arm64 = ''] = multi.manifestDigests;
    const tags = [tagOf(multi.rootDigest, 'sig'), tagOf(amd64, 'sig'), tagOf(arm64, 'sig')];
    for (const tag of tags) await point(source, tag, amd64);
    const root = await source.resolve('v1');
    const platforms = [{ os: 'linux', architecture: 'arm64' }];
    expect(await staleDigestTags(source, destination, root, platforms, tags)).toEqual([tags[2]]);
  });

  it('reads no manifest when the source lists no digest tag, nor for an image that is no index', async () => {
    const { source, destination } = await pair(single);
    const fetchBytes = vi.spyOn(source, 'fetchBytes');
    const resolve = vi.spyOn(destination, 'resolve');
    const root: Descriptor = await source.resolve('v1');
    expect(await staleDigestTags(source, destination, root, [], ['v1', 'v2'])).toEqual([]);
    const signature = tagOf(single.rootDigest, 'sig');
    await point(source, signature, single.rootDigest);
    expect(await staleDigestTags(source, destination, root, [], ['v1', signature])).toEqual([signature]);
    expect(fetchBytes).not.toHaveBeenCalled();
    expect(resolve.mock.calls.map(([reference]) => reference)).toEqual([signature]);
  });
});
