import { describe, expect, it } from 'vitest';
import { buildArtifactManifest, emptyJsonDescriptor } from '../../src/artifacts/artifact-manifest.js';

const jar = {
  mediaType: 'application/java-archive',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 1234,
  annotations: { 'org.opencontainers.image.title': 'app.jar' },
};

describe('artifact manifests are shaped as oras packs them (image-spec 1.1)', () => {
  it('uses the empty config and the given artifact type', () => {
    const { manifest, bytes, descriptor } = buildArtifactManifest({
      artifactType: 'application/vnd.mycompany.jar.v1+java',
      layers: [jar],
    });
    // The exact document oras 1.x writes for `oras push --artifact-type T app.jar:application/java-archive`
    // without its creation-time annotation.
    expect(JSON.parse(Buffer.from(bytes).toString())).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.mycompany.jar.v1+java',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
        data: 'e30=',
      },
      layers: [jar],
    });
    expect(manifest.layers).toEqual([jar]);
    expect(descriptor.size).toBe(bytes.byteLength);
  });

  it('defaults the artifact type as oras does when the config is empty', () => {
    const { manifest } = buildArtifactManifest({ layers: [jar] });
    expect(manifest.artifactType).toBe('application/vnd.unknown.artifact.v1');
  });

  it('uses the empty blob as the only layer when there are no files', () => {
    const { manifest } = buildArtifactManifest({ artifactType: 'application/vnd.example', layers: [] });
    expect(manifest.layers).toEqual([emptyJsonDescriptor]);
  });

  it('keeps a custom config and names no default artifact type', () => {
    const config = {
      mediaType: 'application/vnd.example.config+json',
      digest: `sha256:${'b'.repeat(64)}`,
      size: 10,
    };
    const { manifest } = buildArtifactManifest({ config, layers: [jar] });
    expect(manifest.config).toEqual(config);
    expect(manifest.artifactType).toBeUndefined();
  });

  it('carries a subject and annotations, and is the same bytes for the same inputs', () => {
    const subject = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 500,
    };
    const input = { artifactType: 'application/spdx+json', layers: [jar], subject, annotations: { a: 'b' } };
    const first = buildArtifactManifest(input);
    expect(first.manifest.subject).toEqual(subject);
    expect(first.manifest.annotations).toEqual({ a: 'b' });
    expect(buildArtifactManifest(input).descriptor.digest).toBe(first.descriptor.digest);
  });
});
