import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { startReferrersRegistry } from '../fixtures/referrers-registry.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { bundleTlogEntry, dsseBody, hashedRekordBody, rekorBundle, testRekor } from '../fixtures/rekor.js';
import { tempDir } from '../fixtures/temp.js';

const openssl = promisify(execFile);
const env = { COSIGN_PASSWORD: 'correct horse' };
const simpleSigning = 'application/vnd.dev.cosign.simplesigning.v1+json';
const signatureKey = 'dev.cosignproject.cosign/signature';

let registry: RegistryFixture;
let single: BuiltImage;
let multi: BuiltImage;
let keys: string;
let otherKeys: string;

const sigTag = (digest: string) => `sha256-${digest.slice(7)}.sig`;

interface SigManifest {
  layers: Array<{ mediaType: string; digest: string; annotations: Record<string, string> }>;
}

async function sigManifest(repository: string, digest: string): Promise<SigManifest> {
  const result = await runTug(['manifest', 'get', `${repository}:${sigTag(digest)}`]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SigManifest;
}

async function keyPair(): Promise<string> {
  const dir = await tempDir('tug-keys-');
  const made = await runTug(['generate-key-pair'], { cwd: dir, env });
  expect(made.code, made.stderr).toBe(0);
  return dir;
}

beforeAll(async () => {
  registry = await startRegistry();
  single = await buildImageLayout({ tag: 'v1' });
  multi = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64/v8'], tag: 'v1' });
  await Promise.all([
    seedRegistry(registry, 'signed', single, 'v1'),
    seedRegistry(registry, 'unsigned', single, 'v1'),
    seedRegistry(registry, 'multi', multi, 'v1'),
    seedRegistry(registry, 'race', single, 'v1'),
    seedRegistry(registry, 'bundled', single, 'v1'),
    seedRegistry(registry, 'plain', single, 'v1'),
    seedRegistry(registry, 'travel', single, 'v1'),
    seedRegistry(registry, 'travel-all', multi, 'v1'),
    seedRegistry(registry, 'logged', single, 'v1'),
    seedRegistry(registry, 'bundle-logged', single, 'v1'),
    seedRegistry(registry, 'mixed', single, 'v1'),
    seedRegistry(registry, 'named', single, 'v1'),
    seedRegistry(registry, 'curve-secp384r1', single, 'v1'),
    seedRegistry(registry, 'curve-secp521r1', single, 'v1'),
  ]);
  [keys, otherKeys] = await Promise.all([keyPair(), keyPair()]);
});

afterAll(async () => {
  await registry?.stop();
});

describe('tug sign and verify (cosign classic layout)', () => {
  it('signs the digest behind a tag in sha256-HEX.sig, and verify prints the payload, offline', async () => {
    const repo = `${registry.host}/signed`;
    const signed = await runTug(
      ['sign', '--key', join(keys, 'cosign.key'), `${repo}:v1`, '-a', 'team=core'],
      {
        env,
      },
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout.trim()).toBe(single.rootDigest);
    const manifest = await sigManifest(repo, single.rootDigest);
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]?.mediaType).toBe(simpleSigning);
    expect(manifest.layers[0]?.annotations[signatureKey]).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const verified = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${repo}:v1`, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/offline: no transparency log/);
    const payload = JSON.parse(verified.stdout.trim());
    expect(payload).toEqual({
      critical: {
        identity: { 'docker-reference': repo },
        image: { 'docker-manifest-digest': single.rootDigest },
        type: 'cosign container image signature',
      },
      optional: { team: 'core' },
    });
  });

  it('writes a signature that openssl alone verifies with cosign.pub', async () => {
    const repo = `${registry.host}/signed`;
    const layer = (await sigManifest(repo, single.rootDigest)).layers[0];
    const dir = await tempDir();
    const payload = await runTug(['blob', 'get', `${repo}@${layer?.digest}`]);
    await writeFile(join(dir, 'payload'), payload.stdoutBytes);
    await writeFile(join(dir, 'sig.der'), Buffer.from(layer?.annotations[signatureKey] ?? '', 'base64'));
    const { stdout } = await openssl('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(keys, 'cosign.pub'),
      '-signature',
      join(dir, 'sig.der'),
      join(dir, 'payload'),
    ]);
    expect(stdout.trim()).toBe('Verified OK');
  });

  it('appends a layer when signing again, as cosign does', async () => {
    const repo = `${registry.host}/race`;
    for (const expected of [1, 2]) {
      const sign = await runTug(['sign', '--key', join(keys, 'cosign.key'), `${repo}:v1`], { env });
      expect(sign.code, sign.stderr).toBe(0);
      expect((await sigManifest(repo, single.rootDigest)).layers).toHaveLength(expected);
    }
    const verified = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${repo}:v1`, '--json']);
    expect(verified.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('keeps every signature when four sign at once on a registry that honours If-Match', async () => {
    const conditional = await startReferrersRegistry({ referrersApi: false });
    try {
      const work = await tempDir();
      await writeFile(join(work, 'app.txt'), 'app');
      await runTug(['push', `${conditional.host}/racy:v1`, 'app.txt'], { cwd: work });
      const digest = (await runTug(['digest', `${conditional.host}/racy:v1`])).stdout.trim();
      const signs = await Promise.all(
        [0, 1, 2, 3].map(() =>
          runTug(['sign', '--key', join(keys, 'cosign.key'), `${conditional.host}/racy:v1`], { env }),
        ),
      );
      for (const sign of signs) expect(sign.code, sign.stderr).toBe(0);
      expect((await sigManifest(`${conditional.host}/racy`, digest)).layers).toHaveLength(4);
      expect(
        conditional.requests.some((request) => request.method === 'PUT' && request.path.endsWith('.sig')),
      ).toBe(true);
    } finally {
      await conditional.stop();
    }
  });

  it('signs an index and, with --recursive, each platform manifest', async () => {
    const repo = `${registry.host}/multi`;
    const signed = await runTug(['sign', '--recursive', '--key', join(keys, 'cosign.key'), `${repo}:v1`], {
      env,
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout.trim().split('\n')).toEqual([multi.rootDigest, ...multi.manifestDigests]);
    for (const digest of [multi.rootDigest, ...multi.manifestDigests]) {
      const verified = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${repo}@${digest}`]);
      expect(verified.code, verified.stderr).toBe(0);
    }
  });

  it('fails with a one-line reason: no signatures, another key', async () => {
    const none = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${registry.host}/unsigned:v1`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no signatures found for sha256:[0-9a-f]{64} \(no sha256-/m);
    const other = await runTug([
      'verify',
      '--key',
      join(otherKeys, 'cosign.pub'),
      `${registry.host}/signed:v1`,
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/does not verify with this key/);
    expect(
      other.stderr
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('error:')),
    ).toHaveLength(1);
  });

  it('fails on a tampered signature, and on a tampered image manifest carrying a copied signature', async () => {
    const repo = `${registry.host}/signed`;
    const original = await sigManifest(repo, single.rootDigest);
    const layer = original.layers[0];
    if (!layer) throw new Error('no signature layer');
    const signature = Buffer.from(layer.annotations[signatureKey] ?? '', 'base64');
    signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 0xff;
    layer.annotations[signatureKey] = signature.toString('base64');
    // The payload blob lives in the signed repository: copy the genuine signature there first.
    await runTug(['cp', `${repo}:${sigTag(single.rootDigest)}`, `${registry.host}/unsigned:genuine-sig`]);
    const put = await runTug(
      ['manifest', 'put', `${registry.host}/unsigned:${sigTag(single.rootDigest)}`, '-'],
      {
        input: JSON.stringify(original),
      },
    );
    expect(put.code, put.stderr).toBe(0);
    const tampered = await runTug([
      'verify',
      '--key',
      join(keys, 'cosign.pub'),
      `${registry.host}/unsigned:v1`,
    ]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/signature 1 in sha256-[0-9a-f]{64}\.sig: the signature does not verify/);

    const imageBytes = (await runTug(['manifest', 'get', `${repo}:v1`])).stdoutBytes;
    const image = JSON.parse(imageBytes.toString());
    image.annotations = { 'org.example.tampered': 'yes' };
    const changed = await runTug(['manifest', 'put', `${repo}:tampered`, '-'], {
      input: JSON.stringify(image),
    });
    const changedDigest = changed.stdout.trim();
    const genuine = await runTug(['manifest', 'get', `${repo}:${sigTag(single.rootDigest)}`]);
    await runTug(['manifest', 'put', `${repo}:${sigTag(changedDigest)}`, '-'], {
      input: genuine.stdoutBytes,
    });
    const copied = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${repo}:tampered`]);
    expect(copied.code).toBe(1);
    expect(copied.stderr).toContain(
      `signs ${single.rootDigest}, not ${changedDigest} (payload for another digest)`,
    );
  });

  it('signs and verifies in an oci: layout, and a payload altered on disk is reported as tampered', async () => {
    const layout = await buildImageLayout({ tag: 'v1' });
    const ref = `oci:${layout.layoutDir}:v1`;
    const signed = await runTug(['sign', '--key', join(keys, 'cosign.key'), ref], { env });
    expect(signed.code, signed.stderr).toBe(0);
    expect((await runTug(['verify', '--key', join(keys, 'cosign.pub'), ref])).code).toBe(0);
    const tags = (await runTug(['tags', `oci:${layout.layoutDir}`])).stdout;
    expect(tags).toContain(sigTag(layout.rootDigest));
    const manifest = JSON.parse(
      (await runTug(['manifest', 'get', `oci:${layout.layoutDir}:${sigTag(layout.rootDigest)}`])).stdout,
    ) as SigManifest;
    const blob = join(layout.layoutDir, 'blobs', 'sha256', manifest.layers[0]?.digest.slice(7) ?? '');
    const payload = await readFile(blob, 'utf8');
    await writeFile(
      blob,
      payload.replace('cosign container image signature', 'cosign container image signaturE'),
    );
    const tampered = await runTug(['verify', '--key', join(keys, 'cosign.pub'), ref]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/the payload does not match its digest \(tampered payload\)/);
  });
});

describe('tug verify --rekor-key (the Rekor bundle cosign adds to a signature layer)', () => {
  it('counts a signature only when its log entry verifies with the Rekor key and is this signature', async () => {
    const repo = `${registry.host}/logged`;
    for (let i = 0; i < 2; i++) {
      const signed = await runTug(['sign', '--key', join(keys, 'cosign.key'), `${repo}:v1`], { env });
      expect(signed.code, signed.stderr).toBe(0);
    }
    const manifest = (await sigManifest(repo, single.rootDigest)) as SigManifest & Record<string, unknown>;
    const [first, second] = manifest.layers;
    if (!first || !second) throw new Error('expected two signature layers');
    const payload = (await runTug(['blob', 'get', `${repo}@${first.digest}`])).stdoutBytes;
    const publicKeyPem = await readFile(join(keys, 'cosign.pub'), 'utf8');
    const rekor = testRekor();
    const dir = await tempDir();
    const rekorPub = join(dir, 'rekor.pub');
    const otherRekorPub = join(dir, 'other-rekor.pub');
    await writeFile(rekorPub, rekor.publicKeyPem);
    await writeFile(otherRekorPub, testRekor().publicKeyPem);
    const firstSignature = first.annotations[signatureKey] ?? '';
    const secondSignature = second.annotations[signatureKey] ?? '';
    const body = hashedRekordBody(firstSignature, payload, publicKeyPem);

    const withBundle = async (bundle: string | undefined) => {
      const annotations = {
        [signatureKey]: firstSignature,
        ...(bundle ? { 'dev.sigstore.cosign/bundle': bundle } : {}),
      };
      const put = await runTug(['manifest', 'put', `${repo}:${sigTag(single.rootDigest)}`, '-'], {
        input: JSON.stringify({ ...manifest, layers: [{ ...first, annotations }] }),
      });
      expect(put.code, put.stderr).toBe(0);
    };
    const verify = (rekorKey?: string) =>
      runTug([
        'verify',
        '--key',
        join(keys, 'cosign.pub'),
        ...(rekorKey ? ['--rekor-key', rekorKey] : []),
        `${repo}:v1`,
        '--json',
      ]);
    const expectRefused = async (rekorKey: string, reason: string) => {
      const result = await verify(rekorKey);
      expect(result.code).toBe(1);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`signature 1 in ${sigTag(single.rootDigest)}: ${reason}`);
    };

    await withBundle(rekorBundle(rekor, body));
    const verified = await verify(rekorPub);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(
      `1 signature(s) verified with ${join(keys, 'cosign.pub')}; each with a transparency-log entry signed by ${rekorPub}`,
    );
    expect(JSON.parse(verified.stdout.trim()).critical.image['docker-manifest-digest']).toBe(
      single.rootDigest,
    );
    await expectRefused(otherRekorPub, 'the transparency-log entry does not verify with the Rekor key');

    const tampered = JSON.parse(rekorBundle(rekor, body));
    tampered.Payload.body = hashedRekordBody(firstSignature, Buffer.from('another payload'), publicKeyPem);
    await withBundle(JSON.stringify(tampered));
    await expectRefused(rekorPub, 'the transparency-log entry does not verify with the Rekor key');

    await withBundle(rekorBundle(rekor, hashedRekordBody(secondSignature, payload, publicKeyPem)));
    await expectRefused(rekorPub, 'the transparency-log entry is for another signature');

    await withBundle(undefined);
    await expectRefused(rekorPub, 'no transparency-log entry');
    const offline = await verify();
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stderr).toMatch(/offline: no transparency log was checked/);
  });
});

const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';

interface BundleJson {
  dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> };
  verificationMaterial: Record<string, unknown>;
}

/** Signs `ref` with `--format bundle` and reads back the bundle the referrer holds. */
async function signBundle(
  ref: string,
  keyFile = join(keys, 'cosign.key'),
): Promise<{ referrer: string; bundle: BundleJson }> {
  const signed = await runTug(['sign', '--format', 'bundle', '--key', keyFile, ref], { env });
  expect(signed.code, signed.stderr).toBe(0);
  const referrer = /signature in (sha256:[0-9a-f]{64})/.exec(signed.stderr)?.[1] ?? '';
  const repository = ref.slice(0, ref.lastIndexOf(':'));
  const manifest = JSON.parse((await runTug(['manifest', 'get', `${repository}@${referrer}`])).stdout) as {
    layers: Array<{ digest: string }>;
  };
  const layer = await runTug(['blob', 'get', `${repository}@${manifest.layers[0]?.digest}`, '-o', '-']);
  expect(layer.code, layer.stderr).toBe(0);
  return { referrer, bundle: JSON.parse(layer.stdout) as BundleJson };
}

/** Attaches to `ref` a copy of `bundle` holding one log entry of its envelope, signed by `rekor`. */
async function attachLogged(
  ref: string,
  bundle: BundleJson,
  rekor: ReturnType<typeof testRekor>,
  publicKeyFile = join(keys, 'cosign.pub'),
) {
  const envelope = bundle.dsseEnvelope;
  const publicKeyPem = await readFile(publicKeyFile, 'utf8');
  const body = dsseBody(
    envelope.signatures[0]?.sig ?? '',
    Buffer.from(envelope.payload, 'base64'),
    publicKeyPem,
  );
  const logged = {
    ...bundle,
    verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [bundleTlogEntry(rekor, body)] },
  };
  const dir = await tempDir();
  await writeFile(join(dir, 'logged.sigstore.json'), JSON.stringify(logged));
  const attached = await runTug(
    ['attach', ref, `logged.sigstore.json:${bundleType}`, '--artifact-type', bundleType],
    { cwd: dir },
  );
  expect(attached.code, attached.stderr).toBe(0);
  return /sha256:[0-9a-f]{64}/.exec(attached.stdout)?.[0] ?? '';
}

describe('tug verify --rekor-key on Sigstore bundle referrers (the entries in verificationMaterial.tlogEntries)', () => {
  const rekor = testRekor();
  let rekorPub: string;
  let otherRekorPub: string;
  const verify = (ref: string, rekorKey: string) =>
    runTug(['verify', '--key', join(keys, 'cosign.pub'), '--rekor-key', rekorKey, ref, '--json']);

  beforeAll(async () => {
    const dir = await tempDir();
    rekorPub = join(dir, 'rekor.pub');
    otherRekorPub = join(dir, 'other-rekor.pub');
    await writeFile(rekorPub, rekor.publicKeyPem);
    await writeFile(otherRekorPub, testRekor().publicKeyPem);
  });

  it('counts a bundle whose entry verifies with the Rekor key; refuses one without an entry or under another log', async () => {
    const ref = `${registry.host}/bundle-logged:v1`;
    const { referrer, bundle } = await signBundle(ref);
    const unlogged = await verify(ref, rekorPub);
    expect(unlogged.code).toBe(1);
    expect(unlogged.stderr).toContain(`bundle 1 (${referrer}): no transparency-log entry`);

    const logged = await attachLogged(ref, bundle, rekor);
    const verified = await verify(ref, rekorPub);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(
      `1 signature(s) verified with ${join(keys, 'cosign.pub')}; each with a transparency-log entry signed by ${rekorPub}`,
    );
    expect(JSON.parse(verified.stdout.trim()).subject[0].digest.sha256).toBe(single.rootDigest.slice(7));

    const otherLog = await verify(ref, otherRekorPub);
    expect(otherLog.code).toBe(1);
    const errors = otherLog.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`(${referrer}): no transparency-log entry`);
    expect(errors[0]).toContain(`(${logged}): the transparency-log entry does not verify with the Rekor key`);
  });

  it.each(['secp384r1', 'secp521r1'])(
    'counts a bundle signed with an ECDSA %s key (hashed as cosign does) with its log entry',
    async (curve) => {
      const dir = await tempDir();
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const keyFile = join(dir, 'key.pem');
      const publicKeyFile = join(dir, 'key.pub');
      await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
      const ref = `${registry.host}/curve-${curve}:v1`;
      const { bundle } = await signBundle(ref, keyFile);
      await attachLogged(ref, bundle, rekor, publicKeyFile);
      const verified = await runTug([
        'verify',
        '--key',
        publicKeyFile,
        '--rekor-key',
        rekorPub,
        ref,
        '--json',
      ]);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stderr).toContain(`1 signature(s) verified with ${publicKeyFile}`);
      const otherKey = await runTug([
        'verify',
        '--key',
        join(keys, 'cosign.pub'),
        '--rekor-key',
        rekorPub,
        ref,
      ]);
      expect(otherKey.code).toBe(1);
    },
  );

  it('checks classic signatures and bundles of one image side by side, each against the log', async () => {
    const ref = `${registry.host}/mixed:v1`;
    const signed = await runTug(['sign', '--key', join(keys, 'cosign.key'), ref], { env });
    expect(signed.code, signed.stderr).toBe(0);
    const { bundle } = await signBundle(ref);
    const noEntries = await verify(ref, rekorPub);
    expect(noEntries.code).toBe(1);
    expect(noEntries.stderr).toMatch(/signature 1 in sha256-[0-9a-f]{64}\.sig: no transparency-log entry/);
    expect(noEntries.stderr).toMatch(/bundle 1 \(sha256:[0-9a-f]{64}\): no transparency-log entry/);

    await attachLogged(ref, bundle, rekor);
    const bundleOnly = await verify(ref, rekorPub);
    expect(bundleOnly.code, bundleOnly.stderr).toBe(0);
    expect(bundleOnly.stderr).toContain('1 signature(s) verified');

    const manifest = await sigManifest(`${registry.host}/mixed`, single.rootDigest);
    const [layer] = manifest.layers;
    if (!layer) throw new Error('expected a signature layer');
    const payload = (await runTug(['blob', 'get', `${registry.host}/mixed@${layer.digest}`])).stdoutBytes;
    const publicKeyPem = await readFile(join(keys, 'cosign.pub'), 'utf8');
    const signature = layer.annotations[signatureKey] ?? '';
    const annotations = {
      ...layer.annotations,
      'dev.sigstore.cosign/bundle': rekorBundle(rekor, hashedRekordBody(signature, payload, publicKeyPem)),
    };
    const put = await runTug(
      ['manifest', 'put', `${registry.host}/mixed:${sigTag(single.rootDigest)}`, '-'],
      {
        input: JSON.stringify({ ...manifest, layers: [{ ...layer, annotations }] }),
      },
    );
    expect(put.code, put.stderr).toBe(0);
    const both = await verify(ref, rekorPub);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).toContain('2 signature(s) verified');
    const payloads = both.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(payloads.map((entry) => (entry.critical ? 'classic' : entry.predicateType)).sort()).toEqual([
      'classic',
      'https://sigstore.dev/cosign/sign/v1',
    ]);
  });
});

describe('Sigstore bundles as OCI 1.1 referrers', () => {
  it('signs with --format bundle, verify reads the bundle, another key fails', async () => {
    const repo = `${registry.host}/bundled`;
    const signed = await runTug(
      ['sign', '--format', 'bundle', '--key', join(keys, 'cosign.key'), `${repo}:v1`],
      {
        env,
      },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const discovered = await runTug(['discover', `${repo}:v1`, '--format', 'json']);
    expect(discovered.stdout).toContain('application/vnd.dev.sigstore.bundle.v0.3+json');
    const verified = await runTug(['verify', '--key', join(keys, 'cosign.pub'), `${repo}:v1`, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const statement = JSON.parse(verified.stdout.trim());
    expect(statement.predicateType).toBe('https://sigstore.dev/cosign/sign/v1');
    expect(statement.subject[0].digest.sha256).toBe(single.rootDigest.slice(7));
    const other = await runTug(['verify', '--key', join(otherKeys, 'cosign.pub'), `${repo}:v1`]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/bundle 1 .*does not verify with this key/);
  });
});

describe('tug cp --verify-key', () => {
  it('copies a signed image and refuses an unsigned one, naming it and writing nothing', async () => {
    const pub = join(keys, 'cosign.pub');
    const copied = await runTug([
      'cp',
      '--verify-key',
      pub,
      `${registry.host}/signed:v1`,
      `${registry.host}/mirror:v1`,
    ]);
    expect(copied.code, copied.stderr).toBe(0);
    expect((await runTug(['digest', `${registry.host}/mirror:v1`])).stdout.trim()).toBe(single.rootDigest);

    const refused = await runTug([
      'cp',
      '--verify-key',
      pub,
      `${registry.host}/plain:v1`,
      `${registry.host}/mirror:plain`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to copy ${registry.host}/plain:v1: no signatures found`);
    expect((await runTug(['digest', `${registry.host}/mirror:plain`])).code).toBe(4);

    const wrongKey = await runTug([
      'cp',
      '--verify-key',
      join(otherKeys, 'cosign.pub'),
      `${registry.host}/signed:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(
      /refusing to copy .*\/signed:v1: no valid signature .*does not verify with this key/,
    );
  });

  it('counts with --verify-identity only the signatures that name that repository', async () => {
    const pub = join(keys, 'cosign.pub');
    const repo = `${registry.host}/named`;
    const signed = await runTug(['sign', '--key', join(keys, 'cosign.key'), `${repo}:v1`], { env });
    expect(signed.code, signed.stderr).toBe(0);
    const copy = (identity: string, destination: string) =>
      runTug(['cp', '--verify-key', pub, '--verify-identity', identity, `${repo}:v1`, destination]);

    const named = await copy(repo, `${registry.host}/named-copy:v1`);
    expect(named.code, named.stderr).toBe(0);
    expect((await runTug(['digest', `${registry.host}/named-copy:v1`])).stdout.trim()).toBe(
      single.rootDigest,
    );

    const other = await copy(`${registry.host}/elsewhere`, `${registry.host}/named-refused:v1`);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`refusing to copy ${repo}:v1`);
    expect(other.stderr).toContain(`the payload names ${repo}, not ${registry.host}/elsewhere`);
    expect((await runTug(['digest', `${registry.host}/named-refused:v1`])).code).toBe(4);

    const alone = await runTug([
      'cp',
      '--verify-identity',
      repo,
      `${repo}:v1`,
      `${registry.host}/named-alone:v1`,
    ]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--verify-identity needs --verify-key');
  });

  it('takes the signature along, so the copy verifies at the destination with the same key', async () => {
    const pub = join(keys, 'cosign.pub');
    const repo = `${registry.host}/travel`;
    const signed = await runTug(['sign', '--key', join(keys, 'cosign.key'), `${repo}:v1`], { env });
    expect(signed.code, signed.stderr).toBe(0);
    const copied = await runTug(['cp', '--verify-key', pub, `${repo}:v1`, `${registry.host}/travel-copy:v1`]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toContain(`with ${sigTag(single.rootDigest)}`);
    const verified = await runTug(['verify', '--key', pub, `${registry.host}/travel-copy:v1`]);
    expect(verified.code, verified.stderr).toBe(0);
    // The copy's payload still names the repository it was signed in.
    const asSigned = await runTug([
      'verify',
      '--key',
      pub,
      '--identity',
      repo,
      `${registry.host}/travel-copy:v1`,
    ]);
    expect(asSigned.code, asSigned.stderr).toBe(0);
    const asCopied = await runTug([
      'verify',
      '--key',
      pub,
      '--identity',
      `${registry.host}/travel-copy`,
      `${registry.host}/travel-copy:v1`,
    ]);
    expect(asCopied.code).toBe(1);
    expect(asCopied.stderr).toContain(`the payload names ${repo}, not ${registry.host}/travel-copy`);

    const layout = await tempDir();
    const plainCopy = await runTug(['cp', '--digest-tags', `${repo}:v1`, `oci:${layout}:v1`, '--json']);
    expect(plainCopy.code, plainCopy.stderr).toBe(0);
    expect(JSON.parse(plainCopy.stdout).digestTags).toEqual([sigTag(single.rootDigest)]);
    expect((await runTug(['verify', '--key', pub, `oci:${layout}:v1`])).code).toBe(0);

    const bare = await runTug(['cp', `${repo}:v1`, `${registry.host}/travel-bare:v1`]);
    expect(bare.code, bare.stderr).toBe(0);
    expect((await runTug(['tags', `${registry.host}/travel-bare`])).stdout.trim()).toBe('v1');
  });

  it('--all-tags copies each signed image with its signatures, not the .sig tags as images', async () => {
    const pub = join(keys, 'cosign.pub');
    const repo = `${registry.host}/travel-all`;
    const signed = await runTug(['sign', '--recursive', '--key', join(keys, 'cosign.key'), `${repo}:v1`], {
      env,
    });
    expect(signed.code, signed.stderr).toBe(0);
    const copied = await runTug([
      'cp',
      '--all-tags',
      '--verify-key',
      pub,
      repo,
      `${registry.host}/travel-all-copy`,
    ]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout.trim()).toBe(`v1 ${multi.rootDigest}`);
    const tags = (await runTug(['tags', `${registry.host}/travel-all-copy`])).stdout.trim().split('\n');
    const signatures = [multi.rootDigest, ...multi.manifestDigests].map(sigTag);
    expect(tags.sort()).toEqual(['v1', ...signatures].sort());
    const verified = await runTug(['verify', '--key', pub, `${registry.host}/travel-all-copy:v1`]);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
