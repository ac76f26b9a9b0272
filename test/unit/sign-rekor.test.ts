import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { InvalidContentError } from '../../src/errors.js';
import { KeyError } from '../../src/sign/keys.js';
import {
  canonicalJson,
  checkRekorBundle,
  loadRekorKey,
  type RekorPayload,
  rekorLogId,
  verifySignedEntryTimestamp,
} from '../../src/sign/rekor.js';
import { hashedRekordBody, rekorBundle, testRekor } from '../fixtures/rekor.js';

interface Vector {
  rekorPublicKeyDer: string;
  SignedEntryTimestamp: string;
  Payload: RekorPayload;
}

async function cosignVector(): Promise<{ vector: Vector; key: KeyObject }> {
  const url = new URL('../fixtures/cosign-vectors/rekor-set.json', import.meta.url);
  const vector = JSON.parse(await readFile(url, 'utf8')) as Vector;
  const pem = `-----BEGIN PUBLIC KEY-----\n${vector.rekorPublicKeyDer}\n-----END PUBLIC KEY-----\n`;
  return { vector, key: loadRekorKey(pem) };
}

function signer(): { key: KeyObject; pem: string; sign: (payload: Uint8Array) => string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: pair.publicKey,
    pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (payload) => sign('sha256', payload, pair.privateKey).toString('base64'),
  };
}

describe('the signed entry timestamp of a Rekor entry', () => {
  it('verifies an entry signed by the public Rekor log, taken from cosign test data', async () => {
    const { vector, key } = await cosignVector();
    expect(rekorLogId(key)).toBe(vector.Payload.logID);
    const set = Buffer.from(vector.SignedEntryTimestamp, 'base64');
    expect(verifySignedEntryTimestamp(vector.Payload, set, key)).toBe(true);
    expect(
      verifySignedEntryTimestamp({ ...vector.Payload, logIndex: vector.Payload.logIndex + 1 }, set, key),
    ).toBe(false);
    expect(verifySignedEntryTimestamp(vector.Payload, set, loadRekorKey(testRekor().publicKeyPem))).toBe(
      false,
    );
  });

  it('canonicalises JSON with sorted keys and no whitespace', () => {
    expect(canonicalJson({ logIndex: 2, body: 'b', nested: { z: [1, 'x'], a: null } })).toBe(
      '{"body":"b","logIndex":2,"nested":{"a":null,"z":[1,"x"]}}',
    );
  });

  it('refuses a Rekor key that is not ECDSA', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => loadRekorKey(publicKey.export({ format: 'pem', type: 'spki' }).toString())).toThrow(
      KeyError,
    );
  });
});

describe('checkRekorBundle', () => {
  const rekor = testRekor();
  const rekorKey = loadRekorKey(rekor.publicKeyPem);
  const author = signer();
  const payload = Buffer.from('{"critical":{}}');
  const layer = { signature: author.sign(payload), payload, key: author.key };
  const check =
    (annotation: string | undefined, key = rekorKey) =>
    () =>
      checkRekorBundle(annotation, layer, key, 'signature 1');

  it('accepts the entry of this signature, signed by the log', () => {
    expect(check(rekorBundle(rekor, hashedRekordBody(layer.signature, payload, author.pem)))).not.toThrow();
  });

  it('says there is no entry when the annotation is missing', () => {
    expect(check(undefined)).toThrow('signature 1: no transparency-log entry');
  });

  it('refuses an entry under another log key, a log ID of another log, or a tampered body', () => {
    const body = hashedRekordBody(layer.signature, payload, author.pem);
    const reason = 'the transparency-log entry does not verify with the Rekor key';
    expect(check(rekorBundle(rekor, body), loadRekorKey(testRekor().publicKeyPem))).toThrow(reason);
    expect(check(rekorBundle(rekor, body, 1, 'ab'.repeat(32)))).toThrow(reason);
    const bundle = JSON.parse(rekorBundle(rekor, body));
    bundle.Payload.body = hashedRekordBody(layer.signature, Buffer.from('other'), author.pem);
    expect(check(JSON.stringify(bundle))).toThrow(reason);
    expect(check('not json')).toThrow(reason);
  });

  it('refuses a log-signed entry of another signature, payload or key', () => {
    const other = signer();
    const reason = 'the transparency-log entry is for another signature';
    for (const body of [
      hashedRekordBody(author.sign(Buffer.from('other')), payload, author.pem),
      hashedRekordBody(layer.signature, Buffer.from('other'), author.pem),
      hashedRekordBody(layer.signature, payload, other.pem),
    ]) {
      expect(check(rekorBundle(rekor, body))).toThrow(reason);
      expect(check(rekorBundle(rekor, body))).toThrow(InvalidContentError);
    }
  });
});
