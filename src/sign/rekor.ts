import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { InvalidContentError } from '../errors.js';
import { KeyError, keyAlgorithm, loadPublicKey, readPem } from './keys.js';

/** The annotation of a classic signature layer holding cosign's Rekor bundle. */
export const rekorBundleAnnotation = 'dev.sigstore.cosign/bundle';

/** What Rekor signs in a signed entry timestamp (SET): the entry as cosign keeps it in the bundle. */
export interface RekorPayload {
  /** The base64 of the canonical entry body. */
  body: string;
  integratedTime: number;
  logIndex: number;
  /** The hex SHA-256 of the log's public key (PKIX DER). */
  logID: string;
}

export interface RekorBundle {
  /** Base64 ECDSA (ASN.1 DER) signature over the canonical JSON of the payload. */
  SignedEntryTimestamp: string;
  Payload: RekorPayload;
}

/** One signature layer, as the log entry has to describe it. */
export interface SignedLayer {
  /** The base64 signature of the layer's annotation. */
  signature: string;
  payload: Uint8Array;
  key: KeyObject;
}

/** A Rekor log key: cosign accepts only ECDSA keys for the signed entry timestamp. */
export function loadRekorKey(pem: string): KeyObject {
  const key = loadPublicKey(pem);
  if (!keyAlgorithm(key).startsWith('ecdsa')) {
    throw new KeyError('the Rekor public key must be an ECDSA key');
  }
  return key;
}

function spkiDer(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' });
}

/** The log ID Rekor gives itself: the hex SHA-256 of its public key's PKIX DER. */
export function rekorLogId(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex');
}

/**
 * The JSON canonicalisation scheme (RFC 8785) for the values a Rekor payload holds: keys sorted by
 * UTF-16 code units, no whitespace; strings and integers serialise as ECMAScript's JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes the SET signs: the canonical JSON of body, integratedTime, logIndex and logID. */
export function signedEntryBytes(payload: RekorPayload): Buffer {
  const { body, integratedTime, logIndex, logID } = payload;
  return Buffer.from(canonicalJson({ body, integratedTime, logIndex, logID }), 'utf8');
}

/** Whether `set` is the log's ECDSA (SHA-256) signature over the payload, from the log `rekorKey` names. */
export function verifySignedEntryTimestamp(
  payload: RekorPayload,
  set: Uint8Array,
  rekorKey: KeyObject,
): boolean {
  if (payload.logID !== rekorLogId(rekorKey)) return false;
  try {
    return verify('sha256', signedEntryBytes(payload), { key: rekorKey, dsaEncoding: 'der' }, set);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseBundle(text: string): RekorBundle | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.SignedEntryTimestamp !== 'string' || !isRecord(value.Payload)) {
    return undefined;
  }
  const { body, integratedTime, logIndex, logID } = value.Payload;
  if (
    typeof body !== 'string' ||
    !Number.isSafeInteger(integratedTime) ||
    !Number.isSafeInteger(logIndex) ||
    typeof logID !== 'string'
  ) {
    return undefined;
  }
  return {
    SignedEntryTimestamp: value.SignedEntryTimestamp,
    Payload: { body, integratedTime: integratedTime as number, logIndex: logIndex as number, logID },
  };
}

function path(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}

/** Whether a hashedrekord entry body records this layer: its signature, its payload's hash, its key. */
function entryMatches(body: string, layer: SignedLayer): boolean {
  let entry: unknown;
  try {
    entry = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    return false;
  }
  if (path(entry, 'kind') !== 'hashedrekord') return false;
  const spec = path(entry, 'spec');
  const hash = createHash('sha256').update(layer.payload).digest('hex');
  if (path(spec, 'signature', 'content') !== layer.signature) return false;
  if (path(spec, 'data', 'hash', 'algorithm') !== 'sha256' || path(spec, 'data', 'hash', 'value') !== hash) {
    return false;
  }
  return isLoggedKey(path(spec, 'signature', 'publicKey', 'content'), layer.key);
}

/** Whether `content`, a public key as Rekor entries record it (the base64 of its PEM), is `key`. */
function isLoggedKey(content: unknown, key: KeyObject): boolean {
  if (typeof content !== 'string') return false;
  try {
    return readPem(Buffer.from(content, 'base64').toString('utf8')).der.equals(spkiDer(key));
  } catch {
    return false;
  }
}

/**
 * Whether a log entry body (the canonicalized body of a bundle's entry) is a hashedrekord or dsse
 * v0.0.1 entry that records `key` as its one signer.
 */
export function entryNamesKey(body: Uint8Array, key: KeyObject): boolean {
  let entry: unknown;
  try {
    entry = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return false;
  }
  if (path(entry, 'apiVersion') !== '0.0.1') return false;
  switch (path(entry, 'kind')) {
    case 'hashedrekord':
      return isLoggedKey(path(entry, 'spec', 'signature', 'publicKey', 'content'), key);
    case 'dsse': {
      const signatures = path(entry, 'spec', 'signatures');
      return (
        Array.isArray(signatures) &&
        signatures.length === 1 &&
        isLoggedKey(path(signatures[0], 'verifier'), key)
      );
    }
    default:
      return false;
  }
}

/**
 * Checks the Rekor bundle of one signature layer offline: the log's signed entry timestamp with
 * `rekorKey`, then that the entry is this layer's signature. No inclusion proof is fetched.
 */
export function checkRekorBundle(
  annotation: string | undefined,
  layer: SignedLayer,
  rekorKey: KeyObject,
  label: string,
): void {
  if (!annotation) throw new InvalidContentError(`${label}: no transparency-log entry`);
  const bundle = parseBundle(annotation);
  if (
    !bundle ||
    !verifySignedEntryTimestamp(bundle.Payload, Buffer.from(bundle.SignedEntryTimestamp, 'base64'), rekorKey)
  ) {
    throw new InvalidContentError(`${label}: the transparency-log entry does not verify with the Rekor key`);
  }
  if (!entryMatches(bundle.Payload.body, layer)) {
    throw new InvalidContentError(`${label}: the transparency-log entry is for another signature`);
  }
}
