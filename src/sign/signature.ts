import { type KeyObject, sign, verify } from 'node:crypto';
import { keyAlgorithm } from './keys.js';

/** The hash cosign pairs with each key type; Ed25519 signs the message itself (pure Ed25519). */
function hashFor(key: KeyObject): string | null {
  switch (keyAlgorithm(key)) {
    case 'ecdsa-p384':
      return 'sha384';
    case 'ecdsa-p521':
      return 'sha512';
    case 'ed25519':
      return null;
    default:
      return 'sha256';
  }
}

/** A signature of `data`: ASN.1 DER for ECDSA, PKCS#1 v1.5 for RSA, raw for Ed25519. */
export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return sign(hashFor(key), data, { key, dsaEncoding: 'der' });
}

export function verifyBytes(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(hashFor(key), data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
