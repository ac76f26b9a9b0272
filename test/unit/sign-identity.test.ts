import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { parseReference, parseRepositoryName } from '../../src/ref/index.js';
import { bundleWriter, checkBundleSignatures } from '../../src/sign/bundle.js';
import { appendClassicSignature } from '../../src/sign/classic.js';
import { namesRepository, signedIdentity } from '../../src/sign/identity.js';
import { simpleSigningPayload } from '../../src/sign/payload.js';
import { signBytes } from '../../src/sign/signature.js';
import { checkClassicSignatures } from '../../src/sign/verify.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { put, putImage } from './copy-fixtures.js';

/*
 * What cosign writes as critical.identity.docker-reference when it signs REF without
 * --sign-container-identity: sigstore/sigstore pkg/signature/payload/payload.go,
 * Cosign.SimpleContainerImage, takes go-containerregistry's Repository.Name() of the digest it
 * signs (pkg/name/repository.go, Repository.Name and RepositoryStr; pkg/name/registry.go,
 * NewRegistry). There the registry is kept as typed, except that an empty one and the exact
 * alias "docker.io" both become "index.docker.io"; "library/" is added to a one-component
 * repository on index.docker.io only; the tag or digest is dropped; a port stays.
 */
const asCosignWrites: Array<[string, string]> = [
  ['alpine', 'index.docker.io/library/alpine'],
  ['alpine:3.20', 'index.docker.io/library/alpine'],
  ['docker.io/alpine', 'index.docker.io/library/alpine'],
  ['docker.io/library/alpine', 'index.docker.io/library/alpine'],
  ['index.docker.io/alpine', 'index.docker.io/library/alpine'],
  ['index.docker.io/library/alpine:latest', 'index.docker.io/library/alpine'],
  ['org/app', 'index.docker.io/org/app'],
  [`docker.io/org/team/app@sha256:${'a'.repeat(64)}`, 'index.docker.io/org/team/app'],
  ['ghcr.io/org/app:v1', 'ghcr.io/org/app'],
  ['registry.example:443/team/app', 'registry.example:443/team/app'],
  ['localhost/app', 'localhost/app'],
  ['localhost:5000/app:v1', 'localhost:5000/app'],
  ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b'],
  ['[::1]:5000/app', '[::1]:5000/app'],
];

describe('the docker-reference a signature names', () => {
  it.each(asCosignWrites)('signing %s names %s, as cosign does', (input, expected) => {
    expect(signedIdentity(parseReference(input))).toBe(expected);
  });

  // go-containerregistry keeps "registry-1.docker.io" as typed (no "library/" either); tug reads it
  // as Docker Hub, so it writes the spelling cosign gives Docker Hub, which skopeo's policy also reads.
  it('writes registry-1.docker.io, which tug reads as Docker Hub, as index.docker.io', () => {
    expect(signedIdentity(parseReference('registry-1.docker.io/org/app'))).toBe('index.docker.io/org/app');
  });

  it('names a layout by its path, and refuses a docker-archive, which cannot hold signatures', () => {
    expect(signedIdentity(parseReference('oci:some/dir:v1'))).toBe('oci:some/dir');
    expect(signedIdentity(parseReference('oci-archive:image.tar'))).toBe('oci-archive:image.tar');
    expect(() => signedIdentity(parseReference('docker-archive:image.tar'))).toThrow(
      /cannot hold signatures/,
    );
  });

  const hubAlpine = parseRepositoryName('alpine');
  const local = parseRepositoryName('localhost:5000/team/app');

  it.each([
    ['index.docker.io/library/alpine', 'cosign'],
    ['docker.io/library/alpine', 'tug before it wrote as cosign does'],
    ['docker.io/alpine', 'a claimed identity in short form'],
    ['alpine', 'a claimed identity with no registry'],
    ['index.docker.io/library/alpine:3.20', 'a claimed identity with a tag'],
    [`docker.io/library/alpine@sha256:${'c'.repeat(64)}`, 'a claimed identity with a digest'],
  ])('takes %s (%s) as naming Docker Hub’s library/alpine', (reference) => {
    expect(namesRepository(reference, hubAlpine)).toBe(true);
  });

  it.each([
    'index.docker.io/library/alpine2',
    'index.docker.io/other/alpine',
    'index.docker.io/library/alpine/extra',
    'ghcr.io/library/alpine',
    'localhost/alpine',
    '',
    'oci:/tmp/alpine',
    'not a reference',
  ])('refuses %s as naming Docker Hub’s library/alpine', (reference) => {
    expect(namesRepository(reference, hubAlpine)).toBe(false);
  });

  it('compares other registries host, port and path, the host in any case', () => {
    expect(namesRepository('localhost:5000/team/app', local)).toBe(true);
    expect(namesRepository('LOCALHOST:5000/team/app:v1', local)).toBe(true);
    expect(namesRepository('localhost:5001/team/app', local)).toBe(false);
    expect(namesRepository('localhost/team/app', local)).toBe(false);
    expect(namesRepository('127.0.0.1:5000/team/app', local)).toBe(false);
    expect(namesRepository('localhost:5000/team', local)).toBe(false);
    expect(namesRepository('docker.io/team/app', local)).toBe(false);
  });

  it('refuses a payload with no docker-reference, or one that is not a string', () => {
    expect(namesRepository(undefined, hubAlpine)).toBe(false);
    expect(namesRepository(42, hubAlpine)).toBe(false);
  });
});

interface Signed {
  target: MemoryTarget;
  subject: Descriptor;
  key: KeyObject;
}

/** An image in memory with one classic signature whose payload names `dockerReference`. */
async function signedImage(dockerReference: string): Promise<Signed> {
  const target = new MemoryTarget();
  const layer = await put(target, Buffer.from('layer'), MediaType.ociLayerGzip);
  const { manifest } = await putImage(target, 'amd64', [layer]);
  const subject = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = simpleSigningPayload(dockerReference, subject.digest);
  await appendClassicSignature(target, subject, payload, signBytes(pair.privateKey, payload));
  return { target, subject, key: pair.publicKey };
}

describe('verifying a classic signature with a required identity', () => {
  const hubApp = parseRepositoryName('docker.io/org/app');

  it.each(['index.docker.io/org/app', 'docker.io/org/app'])(
    'accepts a payload naming %s for docker.io/org/app',
    async (reference) => {
      const { target, subject, key } = await signedImage(reference);
      const check = await checkClassicSignatures(target, subject, key, { identity: hubApp });
      expect(check.failures).toEqual([]);
      expect(check.verified).toHaveLength(1);
    },
  );

  it('refuses a payload naming another repository, and says which it names', async () => {
    const { target, subject, key } = await signedImage('index.docker.io/org/other');
    const check = await checkClassicSignatures(target, subject, key, { identity: hubApp });
    expect(check.verified).toEqual([]);
    expect(check.failures).toEqual([
      `signature 1 in ${subject.digest.replace(':', '-')}.sig: the payload names index.docker.io/org/other, not docker.io/org/app (signature for another repository)`,
    ]);
  });

  it('without a required identity, accepts a payload naming another repository, as cosign verify does', async () => {
    const { target, subject, key } = await signedImage('index.docker.io/org/other');
    const check = await checkClassicSignatures(target, subject, key);
    expect(check.verified).toHaveLength(1);
  });

  it('does not count a Sigstore bundle, which names no repository, when an identity is required', async () => {
    const target = new MemoryTarget();
    const layer = await put(target, Buffer.from('layer'), MediaType.ociLayerGzip);
    const { manifest } = await putImage(target, 'amd64', [layer]);
    const subject = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await bundleWriter(target, { key: pair.privateKey, repository: 'index.docker.io/org/app' })(subject);
    const unchecked = await checkBundleSignatures(target, subject, pair.publicKey);
    expect(unchecked.verified).toHaveLength(1);
    const required = await checkBundleSignatures(target, subject, pair.publicKey, { identity: hubApp });
    expect(required.verified).toEqual([]);
    expect(required.failures).toEqual([expect.stringMatching(/names no repository/)]);
  });
});
