import type { KeyObject } from 'node:crypto';
import { DigestMismatchError, InvalidContentError, SizeLimitError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { formatRepository } from '../ref/index.js';
import type { RepositoryName } from '../ref/types.js';
import type { ReadTarget, SignalOptions } from '../targets/target.js';
import {
  readSignatureManifest,
  signatureAnnotation,
  signatureTag,
  simpleSigningMediaType,
} from './classic.js';
import { SignatureVerificationError } from './errors.js';
import { namesRepository } from './identity.js';
import { parseSimpleSigningPayload, type SimpleSigningPayload } from './payload.js';
import { checkRekorBundle, rekorBundleAnnotation } from './rekor.js';
import { verifyBytes } from './signature.js';

export interface VerifiedSignature {
  layout: 'classic' | 'bundle';
  /** The manifest holding the signature. */
  manifest: string;
  /** The payload digest (classic) or the bundle digest. */
  digest: string;
  payload: unknown;
}

export interface VerifyOptions extends SignalOptions {
  /** With a Rekor public key, a signature counts only with a transparency-log entry that verifies. */
  rekorKey?: KeyObject;
  /**
   * The repository a signature must name as its `docker-reference` (any spelling of it counts).
   * Unset, the payload's repository is not checked, as cosign verify does not check it, so a
   * signature copied along with its image verifies in the mirror.
   */
  identity?: RepositoryName;
}

export interface SignatureCheck {
  verified: VerifiedSignature[];
  /** One reason per signature that did not verify. */
  failures: string[];
}

function isTampered(error: unknown): boolean {
  return error instanceof DigestMismatchError || error instanceof SizeLimitError;
}

/** Checks one layer of the `.sig` manifest: payload bytes, signature, and the digest it names. */
async function checkLayer(
  target: ReadTarget,
  subject: Descriptor,
  key: KeyObject,
  layer: Descriptor,
  label: string,
  options: VerifyOptions,
): Promise<SimpleSigningPayload> {
  const encoded = layer.annotations?.[signatureAnnotation];
  if (!encoded) throw new InvalidContentError(`${label} has no ${signatureAnnotation} annotation`);
  let payloadBytes: Uint8Array;
  try {
    payloadBytes = await target.fetchBytes(layer, options);
  } catch (error) {
    if (isTampered(error)) {
      throw new InvalidContentError(`${label}: the payload does not match its digest (tampered payload)`);
    }
    throw error;
  }
  if (!verifyBytes(key, payloadBytes, Buffer.from(encoded, 'base64'))) {
    throw new InvalidContentError(
      `${label}: the signature does not verify with this key (wrong key or tampered signature)`,
    );
  }
  if (options.rekorKey) {
    checkRekorBundle(
      layer.annotations?.[rekorBundleAnnotation],
      { signature: encoded, payload: payloadBytes, key },
      options.rekorKey,
      label,
    );
  }
  const payload = parseSimpleSigningPayload(payloadBytes);
  const named = payload.critical.image['docker-manifest-digest'];
  if (named !== subject.digest) {
    throw new InvalidContentError(
      `${label}: the payload signs ${named}, not ${subject.digest} (payload for another digest)`,
    );
  }
  const reference = payload.critical.identity?.['docker-reference'];
  if (options.identity && !namesRepository(reference, options.identity)) {
    throw new InvalidContentError(
      `${label}: the payload names ${String(reference)}, not ${formatRepository(options.identity)} (signature for another repository)`,
    );
  }
  return payload;
}

/** Every classic signature of `subject`, each verified or given a reason. */
export async function checkClassicSignatures(
  target: ReadTarget,
  subject: Descriptor,
  key: KeyObject,
  options: VerifyOptions = {},
): Promise<SignatureCheck> {
  const found = await readSignatureManifest(target, subject, options);
  const check: SignatureCheck = { verified: [], failures: [] };
  if (!found) return check;
  const layers = found.manifest.layers.filter((layer) => layer.mediaType === simpleSigningMediaType);
  for (const [i, layer] of layers.entries()) {
    const label = `signature ${i + 1} in ${signatureTag(subject)}`;
    try {
      const payload = await checkLayer(target, subject, key, layer, label, options);
      check.verified.push({
        layout: 'classic',
        manifest: found.descriptor.digest,
        digest: layer.digest,
        payload,
      });
    } catch (error) {
      if (!(error instanceof InvalidContentError)) throw error;
      check.failures.push(error.message);
    }
  }
  return check;
}

/** Merges checks of several layouts into the signatures that verified, or one error that says why none did. */
export function requireVerified(subject: Descriptor, checks: readonly SignatureCheck[]): VerifiedSignature[] {
  const verified = checks.flatMap((check) => check.verified);
  if (verified.length > 0) return verified;
  const failures = checks.flatMap((check) => check.failures);
  if (failures.length === 0) {
    throw new SignatureVerificationError(
      `no signatures found for ${subject.digest} (no ${signatureTag(subject)} tag, no Sigstore bundle referrer)`,
    );
  }
  throw new SignatureVerificationError(`no valid signature for ${subject.digest}: ${failures.join('; ')}`);
}
