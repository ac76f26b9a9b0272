import { describe, expect, it } from 'vitest';

/** Adding a name to the public API is a decision: it is made here, and then in src/index.ts. */
const publicNames = [
  'AbortedError',
  'Annotation',
  'AuthError',
  'Client',
  'CopyError',
  'DigestMismatchError',
  'ErrorCodes',
  'InterruptedError',
  'InvalidContentError',
  'InvalidReferenceError',
  'MAX_MANIFEST_BYTES',
  'MediaType',
  'MemoryTarget',
  'NetworkError',
  'NotFoundError',
  'RegistryClient',
  'RegistryError',
  'RegistryTarget',
  'SizeLimitError',
  'TransportError',
  'TugError',
  'UsageError',
  'attachArtifact',
  'copyGraph',
  'copyImage',
  'copyWithReferrers',
  'createCredentialLookup',
  'createTransport',
  'digestOf',
  'findTugError',
  'formatPlatform',
  'formatReference',
  'isIndex',
  'isTugError',
  'listReferrers',
  'openDockerArchive',
  'openOciLayout',
  'openReadTarget',
  'openWriteTarget',
  'parseManifest',
  'parsePlatform',
  'parseReference',
  'prepareArtifact',
  'pullFiles',
  'selectPlatform',
  'targetReference',
];

describe('public API', () => {
  it('exports exactly the names decided on, and no internals', async () => {
    const exported = Object.keys(await import('../../src/index.js')).sort();
    expect(exported).toEqual([...publicNames].sort());
    for (const internal of ['Limiter', 'classifyFailure', 'runHelper', 'fetchToken', 'writeDockerConfig']) {
      expect(exported).not.toContain(internal);
    }
  });

  it('names every export in src/index.ts instead of re-exporting whole modules', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../../src/index.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/export \*/);
  });
});
