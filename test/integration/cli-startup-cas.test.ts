import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../fixtures/certificates.js';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

// bin/tug starts Node without NODE_EXTRA_CA_CERTS (Node would parse the certificates before the
// first line of any command) and trusts them itself when a TLS connection needs them.

let tls: RegistryFixture;
let locked: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  [tls, locked] = await Promise.all([startRegistry({ tls: true }), startRegistry({ auth: 'htpasswd' })]);
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await Promise.all([
    seedRegistry(tls, 'secure/app', image, 'v1'),
    seedRegistry(locked, 'private/app', image, 'v1'),
  ]);
});

afterAll(async () => {
  await Promise.all([tls?.stop(), locked?.stop()]);
});

describe('NODE_EXTRA_CA_CERTS', () => {
  it('trusts the CAs it names, though Node starts without them', async () => {
    const trusted = await runTug(['digest', `${tls.host}/secure/app:v1`], {
      env: { NODE_EXTRA_CA_CERTS: tls.caFile },
    });
    expect(trusted.stderr).toBe('');
    expect(trusted.stdout.trim()).toBe(image.rootDigest);

    const another = await createCertificateAuthority(await tempDir());
    const untrusted = await runTug(['digest', `${tls.host}/secure/app:v1`], {
      env: { NODE_EXTRA_CA_CERTS: another.caCert },
    });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('--ca-file');
  });

  it('warns as Node does when the file cannot be read, and goes on without it', async () => {
    const missing = join(await tempDir(), 'missing.pem');
    const plain = await runTug(
      ['digest', `${locked.host}/private/app:v1`, '-u', locked.username ?? '', '-p', locked.password ?? ''],
      {
        env: { NODE_EXTRA_CA_CERTS: missing },
      },
    );
    expect(plain.stderr).toBe('');
    expect(plain.stdout.trim()).toBe(image.rootDigest);

    const secure = await runTug(['digest', '--insecure', `${tls.host}/secure/app:v1`], {
      env: { NODE_EXTRA_CA_CERTS: missing },
    });
    expect(secure.stderr).toBe('');
    expect(secure.stdout.trim()).toBe(image.rootDigest);
    const refused = await runTug(['digest', `${tls.host}/secure/app:v1`], {
      env: { NODE_EXTRA_CA_CERTS: missing },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Ignoring extra certs from \`${missing}\``);
  });

  it('starts Node without it and gives it back to the credential helper tug runs', async () => {
    const home = await tempDir();
    const bin = join(home, 'bin');
    const config = join(home, 'docker');
    const log = join(home, 'helper.log');
    await mkdir(bin);
    await mkdir(config);
    await writeFile(
      join(config, 'config.json'),
      JSON.stringify({ credHelpers: { [locked.host]: 'recording' } }),
    );
    // The helper writes what it was given, and what the Node running tug was started with.
    const helper = join(bin, 'docker-credential-recording');
    await writeFile(
      helper,
      `#!/bin/sh
{
  echo "helper NODE_EXTRA_CA_CERTS=\${NODE_EXTRA_CA_CERTS:-unset}"
  echo "helper TUG_NODE_EXTRA_CA_CERTS=\${TUG_NODE_EXTRA_CA_CERTS:-unset}"
  tr '\\0' '\\n' < /proc/$PPID/environ | grep -E '^(TUG_)?NODE_EXTRA_CA_CERTS=' | sed 's/^/node /'
} >> "${log}"
cat > /dev/null
printf '{"Username":"%s","Secret":"%s"}' '${locked.username}' '${locked.password}'
`,
    );
    await chmod(helper, 0o755);
    const extra = tls.caFile ?? '';

    const result = await runTug(['digest', `${locked.host}/private/app:v1`], {
      env: {
        DOCKER_CONFIG: config,
        NODE_EXTRA_CA_CERTS: extra,
        PATH: `${bin}${delimiter}${process.env.PATH}`,
      },
    });

    expect(result.stdout.trim()).toBe(image.rootDigest);
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toContain(`helper NODE_EXTRA_CA_CERTS=${extra}`);
    expect(lines).toContain('helper TUG_NODE_EXTRA_CA_CERTS=unset');
    expect(lines).toContain(`node TUG_NODE_EXTRA_CA_CERTS=${extra}`);
    expect(lines.filter((line) => line.startsWith('node NODE_EXTRA_CA_CERTS'))).toEqual([]);
  });
});
