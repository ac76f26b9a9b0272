import type { KeyObject } from 'node:crypto';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget } from '../targets/target.js';
import { checkBundleSignatures } from './bundle.js';
import { SignatureVerificationError } from './errors.js';
import {
  checkClassicSignatures,
  requireVerified,
  type VerifiedSignature,
  type VerifyOptions,
} from './verify.js';

/** Every signature of `subject` that verifies with `key`, in either layout; an error saying why when none does. */
export async function verifySignatures(
  target: ReadTarget,
  subject: Descriptor,
  key: KeyObject,
  options: VerifyOptions = {},
): Promise<VerifiedSignature[]> {
  const checks = [
    await checkClassicSignatures(target, subject, key, options),
    await checkBundleSignatures(target, subject, key, options),
  ];
  return requireVerified(subject, checks);
}

/** The copy policy: `image` goes nowhere unless a signature by `key` verifies; the refusal names it. */
export async function requireSignedBy(
  target: ReadTarget,
  subject: Descriptor,
  key: KeyObject,
  image: string,
  options: VerifyOptions = {},
): Promise<void> {
  try {
    await verifySignatures(target, subject, key, options);
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    throw new SignatureVerificationError(`refusing to copy ${image}: ${error.message}`, {
      hint: 'sign it (with tug or cosign), or copy it without verifying signatures',
      option: 'verifyKey',
    });
  }
}
