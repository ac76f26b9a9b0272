import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { prepareArtifact } from '../../src/artifacts/prepare.js';
import { UsageError } from '../../src/errors.js';

const title = 'org.opencontainers.image.title';

describe('preparing an artifact', () => {
  it('titles the file read from stdin "stdin", or the name given', async () => {
    for (const [stdinName, expected] of [
      [undefined, 'stdin'],
      ['notes.txt', 'notes.txt'],
    ] as const) {
      const prepared = await prepareArtifact({
        files: [{ path: '-' }],
        stdin: Readable.from([Buffer.from('hi\n')]),
        stdinName,
      });
      await prepared.cleanup();
      expect(prepared.manifest.manifest.layers[0]?.annotations).toEqual({ [title]: expected });
    }
  });

  it('puts $config annotations on the empty config, keeping the default artifact type', async () => {
    const prepared = await prepareArtifact({
      files: [{ path: '-' }],
      stdin: Readable.from([Buffer.from('hi\n')]),
      annotations: { config: { 'com.example.purpose': 'demo' } },
    });
    await prepared.cleanup();
    const { manifest } = prepared.manifest;
    expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
    expect(manifest.config.annotations).toEqual({ 'com.example.purpose': 'demo' });
    expect(manifest.artifactType).toBe('application/vnd.unknown.artifact.v1');
    expect(await prepared.source.exists(manifest.config)).toBe(true);
  });

  it('refuses an annotation-file key that names no pushed file', async () => {
    const attempt = prepareArtifact({
      files: [{ path: '-' }],
      stdin: Readable.from([Buffer.from('hi\n')]),
      annotations: { files: { 'missing.txt': { a: 'b' } } },
    });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/"missing.txt", which is not pushed/);
  });
});
