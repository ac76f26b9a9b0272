import { describe, expect, it } from 'vitest';
import { InvalidContentError } from '../../src/errors.js';
import { isIndex, MediaType, parseManifest, successors } from '../../src/oci/index.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const config = { mediaType: MediaType.ociConfig, digest: digest('c'), size: 2 };
const layer = { mediaType: MediaType.ociLayerGzip, digest: digest('1'), size: 10 };
const layer2 = { mediaType: MediaType.ociLayerGzip, digest: digest('2'), size: 20 };
const subject = { mediaType: MediaType.ociManifest, digest: digest('5'), size: 300 };
const image = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer, layer2] };
const child = {
  mediaType: MediaType.ociManifest,
  digest: digest('a'),
  size: 500,
  platform: { os: 'linux', architecture: 'amd64' },
};
const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child] };
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parsing manifests', () => {
  it('parses an image manifest and lists its config, then its layers, as successors', () => {
    const { mediaType, manifest } = parseManifest(bytes(image));
    expect(mediaType).toBe(MediaType.ociManifest);
    expect(isIndex(manifest)).toBe(false);
    expect(successors(manifest)).toEqual([config, layer, layer2]);
  });

  it('parses an index and lists its manifests as successors', () => {
    const { mediaType, manifest } = parseManifest(bytes(index));
    expect(mediaType).toBe(MediaType.ociIndex);
    expect(isIndex(manifest)).toBe(true);
    expect(successors(manifest)).toEqual([child]);
  });

  it('does not count the subject among the successors', () => {
    const { manifest } = parseManifest(bytes({ ...image, subject }));
    expect(manifest.subject).toEqual(subject);
    expect(successors(manifest)).not.toContainEqual(subject);
  });

  it('takes the media type from Content-Type when the document has none, ignoring parameters', () => {
    const { mediaType } = parseManifest(
      bytes({ schemaVersion: 2, config, layers: [] }),
      `${MediaType.dockerManifest}; charset=utf-8`,
    );
    expect(mediaType).toBe(MediaType.dockerManifest);
  });

  it('accepts a matching Content-Type and ignores a generic JSON one', () => {
    expect(parseManifest(bytes(index), MediaType.ociIndex).mediaType).toBe(MediaType.ociIndex);
    expect(parseManifest(bytes(image), 'application/json').mediaType).toBe(MediaType.ociManifest);
  });

  it('infers the OCI type from the shape when neither document nor header names one', () => {
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] })).mediaType).toBe(MediaType.ociIndex);
    expect(parseManifest(bytes({ schemaVersion: 2, config, layers: [] })).mediaType).toBe(
      MediaType.ociManifest,
    );
  });

  it('parses a Docker manifest list', () => {
    const list = { ...index, mediaType: MediaType.dockerManifestList };
    expect(parseManifest(bytes(list)).mediaType).toBe(MediaType.dockerManifestList);
  });
});

describe('refusing bad manifests', () => {
  it.each([
    ['text that is not JSON', Buffer.from('{'), undefined, /manifest is not valid JSON/],
    ['an empty body', Buffer.alloc(0), undefined, /manifest is not valid JSON/],
    ['a JSON array', bytes([]), undefined, /not a JSON object/],
    [
      'a Docker schema 1 manifest',
      bytes({ schemaVersion: 1, name: 'a', fsLayers: [] }),
      undefined,
      /schema 1/,
    ],
    ['a missing schemaVersion', bytes({ config, layers: [] }), undefined, /schemaVersion must be 2/],
    ['schemaVersion 3', bytes({ ...image, schemaVersion: 3 }), undefined, /schemaVersion must be 2/],
    ['both manifests and layers', bytes({ schemaVersion: 2, manifests: [], layers: [] }), undefined, /both/],
    [
      'a media type that disagrees with Content-Type',
      bytes(image),
      MediaType.dockerManifest,
      `manifest mediaType ${MediaType.ociManifest} does not match Content-Type ${MediaType.dockerManifest}`,
    ],
    [
      'an index typed as an image',
      bytes({ ...index, mediaType: MediaType.ociManifest }),
      undefined,
      /does not fit/,
    ],
    [
      'an image typed as an index',
      bytes({ ...image, mediaType: MediaType.ociIndex }),
      undefined,
      /does not fit/,
    ],
    ['a missing config', bytes({ schemaVersion: 2, layers: [] }), undefined, /no "config"/],
    ['layers that are not an array', bytes({ ...image, layers: {} }), undefined, /"layers" must be an array/],
    ['manifests that are not an array', bytes({ ...index, manifests: {} }), undefined, /must be an array/],
    [
      'a traversal digest in a layer',
      bytes({ ...image, layers: [layer, { ...layer, digest: 'sha256:../../etc/passwd' }] }),
      undefined,
      /manifest layers\[1\]: invalid digest "sha256:..\/..\/etc\/passwd"/,
    ],
    [
      'a negative config size',
      bytes({ ...image, config: { ...config, size: -1 } }),
      undefined,
      /manifest config: .*non-negative integer/,
    ],
    [
      'a huge size in an index entry',
      bytes({ ...index, manifests: [{ ...child, size: 2 ** 62 }] }),
      undefined,
      /manifest manifests\[0\]/,
    ],
    [
      'an invalid subject',
      bytes({ ...image, subject: { ...subject, digest: 'sha256' } }),
      undefined,
      /manifest subject/,
    ],
  ])('refuses %s', (_name, content, header, reason) => {
    expect(() => parseManifest(content, header)).toThrow(InvalidContentError);
    expect(() => parseManifest(content, header)).toThrow(reason);
  });

  it('says how to fix a schema 1 manifest', () => {
    try {
      parseManifest(bytes({ schemaVersion: 1 }));
      expect.unreachable('schema 1 must be refused');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidContentError);
      expect((error as InvalidContentError).hint).toMatch(/re-pushed/);
    }
  });
});
