import type { KeyObject } from 'node:crypto';
import { type Bundle, bundleFromJSON, type Envelope } from '@sigstore/bundle';
import {
  type SignedEntity,
  type TrustMaterial,
  toSignedEntity,
  VerificationError,
  Verifier,
} from '@sigstore/verify';
import { InvalidContentError } from '../errors.js';
import { parseDigest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { preAuthEncoding } from './dsse.js';
import { entryNamesKey, rekorLogId } from './rekor.js';
import { verifyBytes } from './signature.js';

const beginningOfTime = new Date(0);
const endOfTime = new Date(8_640_000_000_000_000);

/** Trust in the signing key alone, and with a Rekor key in that one log (its ID is the SHA-256 of the key). */
function trustIn(key: KeyObject, rekorKey: KeyObject | undefined): TrustMaterial {
  const tlogs = rekorKey
    ? [
        {
          logID: Buffer.from(rekorLogId(rekorKey), 'hex'),
          baseURL: '',
          publicKey: rekorKey,
          validFor: { start: beginningOfTime, end: endOfTime },
        },
      ]
    : [];
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs,
    ctlogs: [],
    publicKey: () => ({ publicKey: key, validFor: () => true }),
  };
}

/** The entity without its log entries: what is checked when no Rekor key is given. */
function withoutLog(entity: SignedEntity): SignedEntity {
  return { ...entity, tlogEntries: [], timestamps: [] };
}

/**
 * The log entries without their inclusion proofs: @sigstore/verify finds a checkpoint's signer by
 * the log's URL, which a key alone does not give, so offline only the SET and the body are checked.
 */
function withoutInclusionProofs(entity: SignedEntity): SignedEntity {
  const tlogEntries = entity.tlogEntries.map((entry) => ({ ...entry, inclusionProof: undefined }));
  return { ...entity, tlogEntries };
}

/** Why the log entries failed, once the signature itself has verified. */
function logFailure(error: unknown): string {
  if (error instanceof VerificationError) {
    if (error.code === 'TLOG_MISSING_INCLUSION_ERROR') {
      return 'the transparency-log entry has no signed entry timestamp';
    }
    if (error.code === 'TLOG_INCLUSION_PROMISE_ERROR') {
      return 'the transparency-log entry does not verify with the Rekor key';
    }
    if (error.code === 'TIMESTAMP_ERROR') return 'the bundle lists one transparency-log entry twice';
  }
  // The SET verified, so the body (kind, signature, payload hash) is what does not fit.
  return 'the transparency-log entry is for another signature';
}

/**
 * The entity with its envelope's signature checked as cosign signs it: @sigstore/verify verifies
 * with Node's default digest for the key, SHA-256 for every ECDSA curve, where cosign (and tug)
 * hash with SHA-384 for P-384 and SHA-512 for P-521.
 */
function hashedForItsKey(entity: SignedEntity, envelope: Envelope): SignedEntity {
  const original = entity.signature;
  const signed = preAuthEncoding(envelope.payloadType, envelope.payload);
  const signature: SignedEntity['signature'] = {
    signature: original.signature,
    compareSignature: (other) => original.compareSignature(other),
    compareDigest: (digest) => original.compareDigest(digest),
    verifySignature: (key) => verifyBytes(key, signed, original.signature),
  };
  return { ...entity, signature };
}

function parseBundle(bytes: Uint8Array, label: string): { bundle: Bundle; entity: SignedEntity } {
  try {
    const bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString('utf8')));
    if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not a DSSE envelope');
    return { bundle, entity: hashedForItsKey(toSignedEntity(bundle), bundle.content.dsseEnvelope) };
  } catch (error) {
    throw new InvalidContentError(
      `${label}: not a Sigstore bundle with a DSSE envelope (${(error as Error).message})`,
    );
  }
}

/**
 * With a Rekor key, every log entry of the bundle has to hold: its SET verifies with that key over
 * the canonical JSON of body, integratedTime, logIndex and logID, and its body is a hashedrekord or
 * dsse entry of this envelope's signature, payload hash and signing key. Offline: nothing is fetched.
 */
function checkLogEntries(
  bundle: Bundle,
  entity: SignedEntity,
  key: KeyObject,
  rekorKey: KeyObject,
  label: string,
): void {
  const entries = bundle.verificationMaterial.tlogEntries;
  if (entries.length === 0) throw new InvalidContentError(`${label}: no transparency-log entry`);
  try {
    new Verifier(trustIn(key, rekorKey), {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    }).verify(withoutInclusionProofs(entity));
  } catch (error) {
    throw new InvalidContentError(`${label}: ${logFailure(error)}`);
  }
  if (!entries.every((entry) => entryNamesKey(entry.canonicalizedBody, key))) {
    throw new InvalidContentError(`${label}: the transparency-log entry is for another signature`);
  }
}

/**
 * Verifies one bundle with the signing key (no certificate), and with a Rekor key its transparency-log
 * entries too; returns its statement.
 */
export function verifyBundle(
  bytes: Uint8Array,
  key: KeyObject,
  subject: Descriptor,
  label: string,
  rekorKey?: KeyObject,
): unknown {
  const { bundle, entity } = parseBundle(bytes, label);
  const keyOnly = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
  try {
    new Verifier(trustIn(key, undefined), keyOnly).verify(withoutLog(entity));
  } catch {
    throw new InvalidContentError(
      `${label}: the signature does not verify with this key (wrong key or tampered bundle)`,
    );
  }
  if (rekorKey) checkLogEntries(bundle, entity, key, rekorKey, label);
  const payload =
    bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope.payload : Buffer.alloc(0);
  const statement = JSON.parse(payload.toString('utf8')) as {
    subject?: Array<{ digest?: Record<string, string> }>;
  };
  const { algorithm, hex } = parseDigest(subject.digest);
  if (!statement.subject?.some((entry) => entry.digest?.[algorithm] === hex)) {
    throw new InvalidContentError(
      `${label}: the statement does not name ${subject.digest} (payload for another digest)`,
    );
  }
  return statement;
}
