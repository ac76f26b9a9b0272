import type { KeyObject } from 'node:crypto';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import { InvalidContentError } from '../errors.js';
import { parseDigest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';

/** Verifies one bundle with the key alone (no certificate, no transparency log) and returns its statement. */
export function verifyBundle(
  bytes: Uint8Array,
  key: KeyObject,
  subject: Descriptor,
  label: string,
  rekorKey?: KeyObject,
): unknown {
  let bundle: Bundle;
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString('utf8')));
    if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not a DSSE envelope');
    entity = toSignedEntity(bundle);
  } catch (error) {
    throw new InvalidContentError(
      `${label}: not a Sigstore bundle with a DSSE envelope (${(error as Error).message})`,
    );
  }
  const verifier = new Verifier(
    {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: () => ({ publicKey: key, validFor: () => true }),
    },
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
  );
  try {
    verifier.verify(entity);
  } catch {
    throw new InvalidContentError(
      `${label}: the signature does not verify with this key (wrong key or tampered bundle)`,
    );
  }
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
  if (rekorKey) throw new InvalidContentError(`${label}: no transparency-log entry`);
  return statement;
}
