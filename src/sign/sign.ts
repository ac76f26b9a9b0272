import type { KeyObject } from 'node:crypto';
import { isIndex, parseManifest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { SignalOptions, WriteTarget } from '../targets/target.js';
import { appendClassicSignature } from './classic.js';
import { simpleSigningPayload } from './payload.js';
import { signBytes } from './signature.js';

export interface SignOptions {
  key: KeyObject;
  /** The repository the payload names as `docker-reference` (`registry/repo`). */
  repository: string;
  /** Claims for the payload's `optional` section. */
  claims?: Record<string, string>;
}

export interface SignedManifest {
  subject: Descriptor;
  /** The manifest now holding the signature (the `.sig` manifest, or the bundle referrer). */
  signature: Descriptor;
}

/** Writes one signature for one manifest. */
export type SignatureWriter = (subject: Descriptor, options?: SignalOptions) => Promise<Descriptor>;

export interface SignImageOptions extends SignalOptions {
  /** Also sign each manifest an index lists. */
  recursive?: boolean;
}

/** A writer of cosign's classic layout: a simple-signing payload appended to the `.sig` manifest. */
export function classicWriter(target: WriteTarget, options: SignOptions): SignatureWriter {
  return (subject, signal) => {
    const payload = simpleSigningPayload(options.repository, subject.digest, options.claims);
    return appendClassicSignature(target, subject, payload, signBytes(options.key, payload), signal);
  };
}

/** The subjects a signature covers: the root and, for an index when asked, every manifest in it. */
export async function signingSubjects(
  target: WriteTarget,
  root: Descriptor,
  options: SignImageOptions = {},
): Promise<Descriptor[]> {
  const subjects = [root];
  if (!options.recursive) return subjects;
  const { manifest } = parseManifest(await target.fetchBytes(root, options), root.mediaType);
  if (isIndex(manifest)) {
    for (const entry of manifest.manifests) {
      subjects.push(...(await signingSubjects(target, entry, options)));
    }
  }
  return subjects;
}

/** Signs the digest of `root` (never a tag), and with `recursive` each manifest an index lists. */
export async function signImage(
  target: WriteTarget,
  root: Descriptor,
  write: SignatureWriter,
  options: SignImageOptions = {},
): Promise<SignedManifest[]> {
  const signed: SignedManifest[] = [];
  for (const subject of await signingSubjects(target, root, options)) {
    const bare = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    signed.push({ subject: bare, signature: await write(bare, { signal: options.signal }) });
  }
  return signed;
}
