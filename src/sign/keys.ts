import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  scryptSync,
} from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';
import { UsageError } from '../errors.js';

/** The PEM labels cosign writes for a password-encrypted PKCS#8 key (the second is the older one). */
export const EncryptedKeyLabel = {
  sigstore: 'ENCRYPTED SIGSTORE PRIVATE KEY',
  cosign: 'ENCRYPTED COSIGN PRIVATE KEY',
} as const;

/** The scrypt cost cosign uses (N=2^15, r=8, p=1), a 32-byte salt and a 24-byte secretbox nonce. */
const scryptDefaults = { N: 32768, r: 8, p: 1 } as const;
const saltLength = 32;
const nonceLength = 24;
const keyLength = 32;
/** Beyond this scrypt cost a key file is refused rather than allowed to take gigabytes of memory. */
const maxScryptN = 1 << 20;

/** A key that cannot be read: wrong password, unknown format, unsupported algorithm. Exit 2. */
export class KeyError extends UsageError {}

interface EncryptedKeyDocument {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: 'nacl/secretbox'; nonce: string };
  ciphertext: string;
}

interface PemBlock {
  label: string;
  der: Buffer;
}

/** The first PEM block of a text. */
export function readPem(text: string): PemBlock {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!match?.[1] || match[2] === undefined) throw new KeyError('not a PEM file: no BEGIN/END block');
  return { label: match[1], der: Buffer.from(match[2].replace(/\s+/g, ''), 'base64') };
}

export function writePem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, keyLength, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r,
  });
}

/** Encrypts a PKCS#8 DER key as cosign does: scrypt derives the key, NaCl secretbox seals it; JSON in PEM. */
export function encryptPrivateKey(pkcs8: Uint8Array, password: string): string {
  const salt = randomBytes(saltLength);
  const nonce = randomBytes(nonceLength);
  const key = deriveKey(password, salt, scryptDefaults);
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(pkcs8);
  const document: EncryptedKeyDocument = {
    kdf: { name: 'scrypt', params: { ...scryptDefaults }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return writePem(EncryptedKeyLabel.sigstore, Buffer.from(JSON.stringify(document), 'utf8'));
}

function parseEncryptedDocument(der: Buffer): EncryptedKeyDocument {
  let document: unknown;
  try {
    document = JSON.parse(der.toString('utf8'));
  } catch {
    throw new KeyError('the encrypted key is not the JSON cosign writes');
  }
  const candidate = document as Partial<EncryptedKeyDocument>;
  const params = candidate.kdf?.params;
  if (
    candidate.kdf?.name !== 'scrypt' ||
    candidate.cipher?.name !== 'nacl/secretbox' ||
    typeof candidate.kdf.salt !== 'string' ||
    typeof candidate.cipher.nonce !== 'string' ||
    typeof candidate.ciphertext !== 'string' ||
    !params ||
    ![params.N, params.r, params.p].every((value) => Number.isInteger(value) && value > 0)
  ) {
    throw new KeyError('the encrypted key names a KDF or cipher other than scrypt and nacl/secretbox');
  }
  if (params.N > maxScryptN || params.r > 32 || params.p > 16) {
    throw new KeyError(`the encrypted key asks for an scrypt cost above N=${maxScryptN}, r=32, p=16`);
  }
  return candidate as EncryptedKeyDocument;
}

/** The PKCS#8 DER inside a cosign-encrypted key; a wrong password is a KeyError that says so. */
export function decryptPrivateKey(der: Buffer, password: string): Buffer {
  const document = parseEncryptedDocument(der);
  const key = deriveKey(password, Buffer.from(document.kdf.salt, 'base64'), document.kdf.params);
  const nonce = Buffer.from(document.cipher.nonce, 'base64');
  if (nonce.length !== nonceLength) throw new KeyError('the encrypted key has a nonce of the wrong length');
  try {
    return Buffer.from(xsalsa20poly1305(key, nonce).decrypt(Buffer.from(document.ciphertext, 'base64')));
  } catch {
    throw new KeyError('cannot decrypt the private key: wrong password', {
      hint: 'set COSIGN_PASSWORD to the password the key was made with',
    });
  }
}

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ed25519' | 'rsa';

/** The algorithms cosign accepts for keys; anything else is refused before signing. */
export function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ecdsa-p256';
      if (curve === 'secp384r1') return 'ecdsa-p384';
      if (curve === 'secp521r1') return 'ecdsa-p521';
      throw new KeyError(
        `ECDSA keys on curve ${curve ?? 'unknown'} are not supported (P-256, P-384, P-521 are)`,
      );
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new KeyError(`RSA keys need at least 2048 bits; this one has ${bits}`);
      return 'rsa';
    }
    default:
      throw new KeyError(
        `${key.asymmetricKeyType ?? 'this'} keys are not supported (ECDSA, Ed25519 and RSA are)`,
      );
  }
}

/** Asks for the password only when the key is encrypted. */
export type PasswordSource = () => Promise<string>;

/**
 * A private key from PEM: cosign's encrypted keys (either label), or plain PKCS#8, SEC1 EC and
 * PKCS#1 RSA keys as openssl writes them.
 */
export async function loadPrivateKey(pem: string, password: PasswordSource): Promise<KeyObject> {
  const { label, der } = readPem(pem);
  let key: KeyObject;
  if (label === EncryptedKeyLabel.sigstore || label === EncryptedKeyLabel.cosign) {
    const pkcs8 = decryptPrivateKey(der, await password());
    key = parseDer(() => createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), 'PKCS#8');
  } else if (label === 'PRIVATE KEY') {
    key = parseDer(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), 'PKCS#8');
  } else if (label === 'EC PRIVATE KEY') {
    key = parseDer(() => createPrivateKey({ key: der, format: 'der', type: 'sec1' }), 'SEC1 EC');
  } else if (label === 'RSA PRIVATE KEY') {
    key = parseDer(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }), 'PKCS#1 RSA');
  } else {
    throw new KeyError(`unsupported private key PEM block "${label}"`, {
      hint: 'use a cosign.key, or a PKCS#8 key as `openssl genpkey` writes',
    });
  }
  keyAlgorithm(key);
  return key;
}

function parseDer(parse: () => KeyObject, kind: string): KeyObject {
  try {
    return parse();
  } catch (error) {
    throw new KeyError(`the key is not a valid ${kind} private key`, { cause: error });
  }
}

/** A public key from a PKIX PEM (cosign.pub) or the public half of a private key. */
export function loadPublicKey(pem: string): KeyObject {
  const { label } = readPem(pem);
  if (label !== 'PUBLIC KEY') {
    throw new KeyError(`expected a PUBLIC KEY PEM block, found "${label}"`, { hint: 'give cosign.pub' });
  }
  const key = parseDer(() => createPublicKey({ key: pem, format: 'pem' }), 'PKIX public');
  keyAlgorithm(key);
  return key;
}

export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString();
}

export interface GeneratedKeyPair {
  /** cosign.key: the PKCS#8 key encrypted with the password. */
  privateKey: string;
  /** cosign.pub: PKIX PEM. */
  publicKey: string;
}

/** An ECDSA P-256 key pair in cosign's formats, as `cosign generate-key-pair` makes. */
export function generateKeyPair(password: string): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKey: encryptPrivateKey(pkcs8, password),
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
