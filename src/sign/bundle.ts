import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { listReferrers } from '../artifacts/referrers.js';
import { DigestMismatchError, InvalidContentError, SizeLimitError } from '../errors.js';
import { digestOf, isIndex, MediaType, parseDigest, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { keepReferrerFindable, referrerDescriptor } from '../targets/referrers-tag.js';
import type { ReadTarget, SignalOptions, WriteTarget } from '../targets/target.js';
import { verifyBundle } from './bundle-verify.js';
import { preAuthEncoding } from './dsse.js';
import type { SignatureWriter, SignOptions } from './sign.js';
import { signBytes } from './signature.js';
import type { SignatureCheck, VerifyOptions } from './verify.js';

/** The artifact type (and layer media type) of a Sigstore bundle referrer, as cosign writes it. */
export const bundleArtifactType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** cosign's predicate type for an image signature in a bundle. */
export const signPredicateType = 'https://sigstore.dev/cosign/sign/v1';
const inTotoPayloadType = 'application/vnd.in-toto+json';
const emptyJson = Buffer.from('{}');

/** The key hint of a bundle: the base64 SHA-256 of the public key's PKIX DER. */
function keyHint(key: KeyObject): string {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('base64');
}

/** The in-toto statement cosign signs for an image: its digest as the subject, an empty predicate. */
function statementFor(subject: Descriptor, claims: Record<string, string>): Buffer {
  const { algorithm, hex } = parseDigest(subject.digest);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      { digest: { [algorithm]: hex }, ...(Object.keys(claims).length > 0 ? { annotations: claims } : {}) },
    ],
    predicateType: signPredicateType,
    predicate: {},
  };
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

async function pushBytes(
  target: WriteTarget,
  mediaType: string,
  bytes: Buffer,
  options: SignalOptions,
): Promise<Descriptor> {
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (!(await target.exists(descriptor, options)))
    await target.push(descriptor, Readable.from([bytes]), options);
  return descriptor;
}

/** A writer of Sigstore bundles (v0.3, DSSE, key-signed, no certificate) as OCI 1.1 referrers. */
export function bundleWriter(target: WriteTarget, options: SignOptions): SignatureWriter {
  return async (subject, signal = {}) => {
    const statement = statementFor(subject, options.claims ?? {});
    const signature = signBytes(options.key, preAuthEncoding(inTotoPayloadType, statement));
    const bundle = toDSSEBundle({
      artifact: statement,
      artifactType: inTotoPayloadType,
      signature,
      keyHint: keyHint(options.key),
    });
    const layer = await pushBytes(
      target,
      bundleArtifactType,
      Buffer.from(JSON.stringify(bundleToJSON(bundle))),
      signal,
    );
    const config = await pushBytes(target, MediaType.ociEmpty, emptyJson, signal);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: bundleArtifactType,
      config,
      layers: [layer],
      subject,
      annotations: {
        'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': signPredicateType,
      },
    };
    const descriptor = await pushBytes(
      target,
      MediaType.ociManifest,
      Buffer.from(JSON.stringify(manifest)),
      signal,
    );
    await keepReferrerFindable(target, subject, referrerDescriptor(descriptor, manifest), signal);
    return descriptor;
  };
}

/** Every Sigstore bundle referrer of `subject`, each verified or given a reason. */
export async function checkBundleSignatures(
  target: ReadTarget,
  subject: Descriptor,
  key: KeyObject,
  options: VerifyOptions = {},
): Promise<SignatureCheck> {
  const check: SignatureCheck = { verified: [], failures: [] };
  const referrers = await listReferrers(target, subject, bundleArtifactType, options);
  for (const [i, referrer] of referrers.entries()) {
    const label = `bundle ${i + 1} (${referrer.digest})`;
    try {
      const { manifest } = parseManifest(await target.fetchBytes(referrer, options), referrer.mediaType);
      const layer = isIndex(manifest)
        ? undefined
        : manifest.layers.find((entry) => entry.mediaType === bundleArtifactType);
      if (!layer) throw new InvalidContentError(`${label}: no ${bundleArtifactType} layer`);
      let bytes: Uint8Array;
      try {
        bytes = await target.fetchBytes(layer, options);
      } catch (error) {
        if (error instanceof DigestMismatchError || error instanceof SizeLimitError) {
          throw new InvalidContentError(`${label}: the bundle does not match its digest (tampered bundle)`);
        }
        throw error;
      }
      const payload = verifyBundle(bytes, key, subject, label, options.rekorKey);
      if (options.identity) {
        throw new InvalidContentError(
          `${label}: a Sigstore bundle names no repository, only the digest it signs (a repository is required)`,
        );
      }
      check.verified.push({ layout: 'bundle', manifest: referrer.digest, digest: layer.digest, payload });
    } catch (error) {
      if (!(error instanceof InvalidContentError)) throw error;
      check.failures.push(error.message);
    }
  }
  return check;
}
