import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidContentError } from '../../src/errors.js';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { bundleWriter } from '../../src/sign/bundle.js';
import { verifyBundle } from '../../src/sign/bundle-verify.js';
import { loadRekorKey } from '../../src/sign/rekor.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { bundleTlogEntry, dsseBody, hashedRekordBody, testRekor } from '../fixtures/rekor.js';

interface Signer {
  publicKey: KeyObject;
  pem: string;
  privateKey: KeyObject;
}

function signer(): Signer {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair, pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

interface SignedBundle {
  subject: Descriptor;
  json: { dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> } } & Record<string, unknown>;
  /** The envelope's signature, base64, as log entries record it. */
  signature: string;
  /** The envelope's payload (the in-toto statement). */
  payload: Buffer;
}

/** A bundle as `sign --format bundle` writes it, read back from the referrer it pushed. */
async function signedBundle(author: Signer): Promise<SignedBundle> {
  const target = new MemoryTarget();
  const image = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, layers: [] }),
  );
  const subject = { mediaType: MediaType.ociManifest, digest: digestOf(image), size: image.byteLength };
  await target.push(subject, Readable.from([image]));
  const referrer = await bundleWriter(target, { key: author.privateKey, repository: 'example.com/app' })(
    subject,
  );
  const manifest = JSON.parse(Buffer.from(await target.fetchBytes(referrer)).toString()) as {
    layers: Descriptor[];
  };
  const layer = manifest.layers[0];
  if (!layer) throw new Error('the referrer has no layer');
  const json = JSON.parse(Buffer.from(await target.fetchBytes(layer)).toString()) as SignedBundle['json'];
  const { payload, signatures } = json.dsseEnvelope;
  return { subject, json, signature: signatures[0]?.sig ?? '', payload: Buffer.from(payload, 'base64') };
}

function withEntries(bundle: SignedBundle, entries: unknown[]): Buffer {
  const material = bundle.json.verificationMaterial as Record<string, unknown>;
  return Buffer.from(
    JSON.stringify({ ...bundle.json, verificationMaterial: { ...material, tlogEntries: entries } }),
  );
}

describe('verifyBundle with a Rekor key (the transparency-log entries of a Sigstore bundle)', async () => {
  const rekor = testRekor();
  const rekorKey = loadRekorKey(rekor.publicKeyPem);
  const author = signer();
  const bundle = await signedBundle(author);
  const ownBody = dsseBody(bundle.signature, bundle.payload, author.pem);
  const verify = (bytes: Buffer, key: KeyObject | undefined = rekorKey, signingKey = author.publicKey) =>
    verifyBundle(bytes, signingKey, bundle.subject, 'bundle 1', key);
  const refusal = (bytes: Buffer, key?: KeyObject, signingKey?: KeyObject): string => {
    try {
      verify(bytes, key, signingKey);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidContentError);
      return (error as Error).message;
    }
    throw new Error('the bundle verified');
  };

  it('accepts the dsse entry Rekor makes of this envelope, signed by the log (its inclusion proof unchecked), and returns the statement', () => {
    const statement = verify(withEntries(bundle, [bundleTlogEntry(rekor, ownBody)])) as {
      subject: Array<{ digest: Record<string, string> }>;
    };
    expect(statement.subject[0]?.digest.sha256).toBe(bundle.subject.digest.slice(7));
  });

  it('accepts a hashedrekord entry of the envelope: its signature, payload hash and key', () => {
    const body = hashedRekordBody(bundle.signature, bundle.payload, author.pem);
    expect(() => verify(withEntries(bundle, [bundleTlogEntry(rekor, body)]))).not.toThrow();
  });

  it('ignores the log without a Rekor key: a bundle with an entry verifies by its key alone', () => {
    const other = testRekor();
    const bytes = withEntries(bundle, [bundleTlogEntry(other, ownBody)]);
    expect(() => verifyBundle(bytes, author.publicKey, bundle.subject, 'bundle 1')).not.toThrow();
  });

  it('says a bundle without an entry has no transparency-log entry', () => {
    expect(refusal(withEntries(bundle, []))).toBe('bundle 1: no transparency-log entry');
  });

  it('refuses an entry signed by another log, naming another log ID, with a tampered body, or without a SET', () => {
    const reason = 'bundle 1: the transparency-log entry does not verify with the Rekor key';
    const entry = bundleTlogEntry(rekor, ownBody);
    expect(refusal(withEntries(bundle, [entry]), loadRekorKey(testRekor().publicKeyPem))).toBe(reason);
    const otherLog = testRekor();
    expect(refusal(withEntries(bundle, [bundleTlogEntry(otherLog, ownBody, { logId: rekor.logId })]))).toBe(
      reason,
    );
    expect(refusal(withEntries(bundle, [bundleTlogEntry(rekor, ownBody, { logId: 'ab'.repeat(32) })]))).toBe(
      reason,
    );
    const tamperedBody = dsseBody(bundle.signature, Buffer.from('another statement'), author.pem);
    expect(refusal(withEntries(bundle, [{ ...entry, canonicalizedBody: tamperedBody }]))).toBe(reason);
    expect(refusal(withEntries(bundle, [{ ...entry, logIndex: '4243' }]))).toBe(reason);
    expect(refusal(withEntries(bundle, [{ ...entry, inclusionPromise: undefined }]))).toBe(
      'bundle 1: the transparency-log entry has no signed entry timestamp',
    );
  });

  it('refuses a log-signed entry of another signature, statement or key, in either kind', () => {
    const reason = 'bundle 1: the transparency-log entry is for another signature';
    const other = signer();
    const otherSignature = Buffer.from(bundle.signature, 'base64').reverse().toString('base64');
    for (const body of [dsseBody, hashedRekordBody].flatMap((kind) => [
      kind(otherSignature, bundle.payload, author.pem),
      kind(bundle.signature, Buffer.from('another statement'), author.pem),
      kind(bundle.signature, bundle.payload, other.pem),
    ])) {
      expect(refusal(withEntries(bundle, [bundleTlogEntry(rekor, body)]))).toBe(reason);
    }
  });

  it('requires every entry to hold: a second entry of another key, or the same entry twice, fails the bundle', () => {
    const other = signer();
    const entries = [
      bundleTlogEntry(rekor, ownBody),
      bundleTlogEntry(rekor, dsseBody(bundle.signature, bundle.payload, other.pem), {
        logIndex: 4243,
        integratedTime: 1_700_000_001,
      }),
    ];
    expect(() => verify(withEntries(bundle, entries.slice(0, 1)))).not.toThrow();
    expect(refusal(withEntries(bundle, [entries[0], entries[0]]))).toBe(
      'bundle 1: the bundle lists one transparency-log entry twice',
    );
    expect(refusal(withEntries(bundle, entries))).toBe(
      'bundle 1: the transparency-log entry is for another signature',
    );
  });

  it('reports a wrong signing key as such, even with a valid entry', () => {
    expect(
      refusal(withEntries(bundle, [bundleTlogEntry(rekor, ownBody)]), rekorKey, signer().publicKey),
    ).toBe('bundle 1: the signature does not verify with this key (wrong key or tampered bundle)');
  });
});
