import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { TlsMaterial } from '../../src/transport/tls-material.js';
import { selfSignedCertificate } from '../fixtures/certificates.js';
import { tempDir } from '../fixtures/temp.js';

let server: Server;
let origin: URL;
let serverPair: { certificate: string; key: string };
let otherPair: { certificate: string; key: string };
/** A second server on loopback, with a self-signed certificate of its own. */
let second: Server;
let secondPair: { certificate: string; key: string };

async function listen(pair: { certificate: string; key: string }): Promise<Server> {
  const listening = createServer(
    { cert: await readFile(pair.certificate), key: await readFile(pair.key) },
    (_request, response) => response.end('ok'),
  );
  await new Promise<void>((done) => listening.listen(0, '127.0.0.1', done));
  return listening;
}

const portOf = (listening: Server) => (listening.address() as AddressInfo).port;

beforeAll(async () => {
  const directory = await tempDir('tug-tls-context-');
  serverPair = await selfSignedCertificate(directory, 'server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  otherPair = await selfSignedCertificate(directory, 'other', '/CN=other');
  secondPair = await selfSignedCertificate(directory, 'second', '/CN=127.0.0.1', 'IP:127.0.0.1');
  server = await listen(serverPair);
  second = await listen(secondPair);
  origin = new URL(`https://127.0.0.1:${portOf(server)}`);
});

afterAll(async () => {
  await Promise.all([server, second].map((listening) => new Promise((done) => listening?.close(done))));
});

/** Whether a connection made with `settings` is verified by the server's certificate. */
function handshake(settings: Awaited<ReturnType<TlsMaterial['forOrigin']>>): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(origin.port), ...settings }, () => {
      resolve(socket.authorized);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe("an origin's TLS material", () => {
  it('is one secure context holding the extra CA, shared by every connection, not a CA list for each', async () => {
    const settings = await new TlsMaterial({ caFile: serverPair.certificate }).forOrigin(origin, false);

    expect(Object.keys(settings).sort()).toEqual(['rejectUnauthorized', 'secureContext']);
    expect(await handshake(settings)).toBe(true);
    expect(await handshake(settings)).toBe(true);
  });

  it('trusts the extra CA for that origin only: a connection without the context still refuses it', async () => {
    const settings = await new TlsMaterial({ caFile: serverPair.certificate }).forOrigin(origin, false);

    expect(await handshake(settings)).toBe(true);
    await expect(handshake({ rejectUnauthorized: true })).rejects.toThrow(/self[- ]signed/);
  });

  it("adds the extra CA to Node's root store, the system's under --use-openssl-ca, replacing none", async () => {
    // Node picks its root store when it starts: a process of its own, running the built library,
    // whose roots are OpenSSL's, read from SSL_CERT_FILE, here the second server's certificate.
    const library = pathToFileURL(resolve(import.meta.dirname, '../../dist/transport/tls-material.js')).href;
    const script = `
      import { connect } from 'node:tls';
      import { TlsMaterial } from ${JSON.stringify(library)};
      const { CA_FILE, ORIGIN, PORTS } = process.env;
      const settings = await new TlsMaterial({ caFile: CA_FILE }).forOrigin(new URL(ORIGIN), false);
      const verified = (port) => new Promise((done) => {
        const socket = connect({ host: '127.0.0.1', port: Number(port), ...settings }, () => {
          done(socket.authorized);
          socket.destroy();
        });
        socket.on('error', () => done(false));
      });
      const answers = [];
      for (const port of PORTS.split(',')) answers.push(await verified(port));
      console.log(JSON.stringify(answers));`;
    const node = ['--use-openssl-ca', '--input-type=module', '-e', script];
    const { stdout } = await promisify(execFile)(process.execPath, node, {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: '',
        SSL_CERT_FILE: secondPair.certificate,
        CA_FILE: serverPair.certificate,
        ORIGIN: origin.href,
        PORTS: `${portOf(server)},${portOf(second)}`,
      },
    });

    expect(JSON.parse(stdout)).toEqual([true, true]);
  });

  it("leaves Node's default context to an origin with no CA or client certificate of its own", async () => {
    const settings = await new TlsMaterial({ certsDir: await tempDir() }).forOrigin(origin, false);

    expect(settings).toEqual({ rejectUnauthorized: true });
    await expect(handshake(settings)).rejects.toThrow(/self[- ]signed/);
  });

  it('trusts the CAs Node was started without, in one context shared by every origin with nothing of its own', async () => {
    const material = new TlsMaterial({ certsDir: await tempDir(), nodeExtraCaCerts: serverPair.certificate });

    const settings = await material.forOrigin(origin, false);
    const elsewhere = await material.forOrigin(new URL(`https://127.0.0.1:${portOf(second)}`), false);

    expect(await handshake(settings)).toBe(true);
    expect(elsewhere.secureContext).toBe(settings.secureContext);
  });

  it('keeps them out of a context with CAs of its own, as Node keeps NODE_EXTRA_CA_CERTS out', async () => {
    const material = new TlsMaterial({
      certsDir: await tempDir(),
      caFile: secondPair.certificate,
      nodeExtraCaCerts: serverPair.certificate,
    });

    await expect(handshake(await material.forOrigin(origin, false))).rejects.toThrow(/self[- ]signed/);
  });

  it('does not read them for an origin whose certificate is not verified', async () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listener);
    const material = new TlsMaterial({
      certsDir: await tempDir(),
      insecure: true,
      nodeExtraCaCerts: join(await tempDir(), 'missing.pem'),
    });

    const settings = await material.forOrigin(origin, false);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);

    expect(settings).toEqual({ rejectUnauthorized: false });
    expect(warnings).toEqual([]);
  });

  it('refuses a client certificate whose key is not its own, as a usage error naming the host', async () => {
    const material = new TlsMaterial({ certFile: serverPair.certificate, keyFile: otherPair.key });

    const error = await material.forOrigin(origin, false).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(`the TLS files for ${origin.host} cannot be used`);
  });
});
