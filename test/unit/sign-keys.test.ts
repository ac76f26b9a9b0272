import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  generateKeyPair,
  KeyError,
  keyAlgorithm,
  loadPrivateKey,
  loadPublicKey,
  publicKeyPem,
  readPem,
} from '../../src/sign/keys.js';
import { simpleSigningPayload } from '../../src/sign/payload.js';
import { signBytes, verifyBytes } from '../../src/sign/signature.js';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
const vectorsFile = new URL('../fixtures/cosign-vectors/encrypted-keys.json', import.meta.url);

interface KeyVector {
  name: string;
  label: string;
  cosignLoads: boolean;
  pem: string;
}

async function vectors(): Promise<{ password: string; keys: KeyVector[] }> {
  return JSON.parse(await readFile(vectorsFile, 'utf8')) as { password: string; keys: KeyVector[] };
}

describe('cosign key formats', () => {
  it('decrypts the encrypted keys from cosign’s own tests with their password, under both PEM labels', async () => {
    const { password, keys } = await vectors();
    const loaded = keys.filter((key) => key.cosignLoads);
    expect(new Set(loaded.map((key) => key.label))).toEqual(
      new Set(['ENCRYPTED COSIGN PRIVATE KEY', 'ENCRYPTED SIGSTORE PRIVATE KEY']),
    );
    for (const vector of loaded) {
      const key = await loadPrivateKey(vector.pem, async () => password);
      expect(['ecdsa-p256', 'rsa']).toContain(keyAlgorithm(key));
    }
  });

  it('signs with each cosign vector key a payload that openssl verifies with its public half', async () => {
    const { password, keys } = await vectors();
    const dir = await tempDir();
    const payload = simpleSigningPayload('registry.example/app', `sha256:${'a'.repeat(64)}`);
    await writeFile(join(dir, 'payload'), payload);
    for (const vector of keys.filter((key) => key.cosignLoads)) {
      const key = await loadPrivateKey(vector.pem, async () => password);
      const signature = signBytes(key, payload);
      await writeFile(join(dir, `${vector.name}.pub`), publicKeyPem(key));
      await writeFile(join(dir, `${vector.name}.sig`), signature);
      const { stdout } = await run('openssl', [
        'dgst',
        '-sha256',
        '-verify',
        join(dir, `${vector.name}.pub`),
        '-signature',
        join(dir, `${vector.name}.sig`),
        join(dir, 'payload'),
      ]);
      expect(stdout.trim()).toBe('Verified OK');
      const publicKey = loadPublicKey(publicKeyPem(key));
      expect(verifyBytes(publicKey, payload, signature)).toBe(true);
      expect(verifyBytes(publicKey, Buffer.concat([payload, Buffer.from(' ')]), signature)).toBe(false);
    }
  });

  it('refuses what cosign refuses: an encrypted SEC1 key is not PKCS#8', async () => {
    const { password, keys } = await vectors();
    const sec1 = keys.find((key) => !key.cosignLoads);
    await expect(loadPrivateKey(sec1?.pem ?? '', async () => password)).rejects.toThrow(/not a valid PKCS#8/);
  });

  it('says the password is wrong instead of failing somewhere deeper', async () => {
    const { keys } = await vectors();
    await expect(loadPrivateKey(keys[0]?.pem ?? '', async () => 'not-hello')).rejects.toThrow(
      /wrong password/,
    );
  });

  it('generates an encrypted P-256 key whose JSON names scrypt and nacl/secretbox, and a PKIX public key', async () => {
    const pair = generateKeyPair('s3cret');
    const { label, der } = readPem(pair.privateKey);
    expect(label).toBe('ENCRYPTED SIGSTORE PRIVATE KEY');
    const document = JSON.parse(der.toString('utf8'));
    expect(document.kdf).toMatchObject({ name: 'scrypt', params: { N: 32768, r: 8, p: 1 } });
    expect(Buffer.from(document.kdf.salt, 'base64')).toHaveLength(32);
    expect(document.cipher.name).toBe('nacl/secretbox');
    expect(Buffer.from(document.cipher.nonce, 'base64')).toHaveLength(24);
    const key = await loadPrivateKey(pair.privateKey, async () => 's3cret');
    expect(keyAlgorithm(key)).toBe('ecdsa-p256');
    expect(keyAlgorithm(loadPublicKey(pair.publicKey))).toBe('ecdsa-p256');
  });

  it('round-trips any PKCS#8 bytes through encryption, and a flipped ciphertext byte fails authentication', () => {
    const plain = Buffer.from('pkcs8 bytes stand-in');
    const pem = encryptPrivateKey(plain, 'pw');
    const { der } = readPem(pem);
    expect(decryptPrivateKey(der, 'pw').equals(plain)).toBe(true);
    const document = JSON.parse(der.toString('utf8'));
    const cipher = Buffer.from(document.ciphertext, 'base64');
    cipher[0] = (cipher[0] ?? 0) ^ 1;
    document.ciphertext = cipher.toString('base64');
    expect(() => decryptPrivateKey(Buffer.from(JSON.stringify(document)), 'pw')).toThrow(KeyError);
  });

  it('refuses an scrypt cost that would take gigabytes of memory', () => {
    const document = {
      kdf: { name: 'scrypt', params: { N: 1 << 24, r: 8, p: 1 }, salt: '' },
      cipher: { name: 'nacl/secretbox', nonce: '' },
      ciphertext: '',
    };
    expect(() => decryptPrivateKey(Buffer.from(JSON.stringify(document)), 'pw')).toThrow(/scrypt cost/);
  });

  it('reads plain keys as openssl writes them: PKCS#8 EC, Ed25519 and RSA, SEC1 EC', async () => {
    const dir = await tempDir();
    const cases: Array<[string[], string]> = [
      [['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ecdsa-p256'],
      [['genpkey', '-algorithm', 'ED25519'], 'ed25519'],
      [['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'rsa'],
      [['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], 'ecdsa-p256'],
    ];
    for (const [args, algorithm] of cases) {
      const file = join(dir, `${algorithm}-${args[0]}.pem`);
      await run('openssl', [...args, '-out', file]);
      const key = await loadPrivateKey(await readFile(file, 'utf8'), async () => {
        throw new Error('a plain key needs no password');
      });
      expect(keyAlgorithm(key)).toBe(algorithm);
    }
  });

  it('refuses a small RSA key and a curve cosign does not accept', async () => {
    const dir = await tempDir();
    const rsa = join(dir, 'rsa1024.pem');
    await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', rsa]);
    await expect(loadPrivateKey(await readFile(rsa, 'utf8'), async () => '')).rejects.toThrow(/2048 bits/);
    const k1 = join(dir, 'k1.pem');
    await run('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:secp256k1',
      '-out',
      k1,
    ]);
    await expect(loadPrivateKey(await readFile(k1, 'utf8'), async () => '')).rejects.toThrow(/secp256k1/);
    await expect(loadPrivateKey('no pem here', async () => '')).rejects.toThrow(/not a PEM/);
  });
});
