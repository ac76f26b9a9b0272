import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SizeLimitError, TransportError } from '../../src/errors.js';
import {
  createTransport,
  defaultTimeouts,
  discardBody,
  readBodyText,
  type Transport,
  type TransportOptions,
} from '../../src/transport/index.js';
import { answersPlainHttp } from '../../src/transport/tls-probe.js';
import { selfSignedCertificate } from '../fixtures/certificates.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface TestServer {
  port: number;
  /** `http://127.0.0.1:PORT` or `https://…` */
  origin: string;
  /** `127.0.0.1:PORT`, as a registry name. */
  host: string;
  seen: Seen[];
}

type Handler = (request: IncomingMessage, response: ServerResponse, hit: number) => void;

interface KeyPair {
  cert: string;
  key: string;
}

let directory = '';
let serverPair: KeyPair;
let clientPair: KeyPair;
const servers: Array<http.Server | net.Server> = [];
const transports: Transport[] = [];

async function selfSigned(name: string, subjectAltName: string): Promise<KeyPair> {
  const { certificate, key } = await selfSignedCertificate(directory, name, `/CN=${name}`, subjectAltName);
  return { cert: certificate, key };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tug-transport-'));
  serverPair = await selfSigned('localhost', 'IP:127.0.0.1,DNS:localhost');
  clientPair = await selfSigned('tug-client', 'DNS:tug-client');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          if (server instanceof http.Server) server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

function listen(server: http.Server | net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

async function serve(handler: Handler, tls?: https.ServerOptions): Promise<TestServer> {
  const seen: Seen[] = [];
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    seen.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers });
    request.resume();
    handler(request, response, seen.length);
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  const port = await listen(server);
  return { port, origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, seen };
}

async function tlsOptions(extra: https.ServerOptions = {}): Promise<https.ServerOptions> {
  return { cert: await readFile(serverPair.cert), key: await readFile(serverPair.key), ...extra };
}

const ok: Handler = (_request, response) => response.end('ok');

function transport(options: TransportOptions = {}): Transport & { waits: number[] } {
  const waits: number[] = [];
  const created = createTransport({
    env: {},
    certsDir: join(directory, 'no-certs.d'),
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  transports.push(created);
  return Object.assign(created, { waits });
}

async function get(
  client: Transport,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await client.send({ method: 'GET', url: new URL(url), headers });
  return { status: response.status, text: await readBodyText(response) };
}

async function failureOf(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('retries', () => {
  it('retries a 503 and returns the 200 that follows', async () => {
    const server = await serve((_request, response, hit) => {
      response.statusCode = hit === 1 ? 503 : 200;
      response.end(hit === 1 ? 'busy' : 'fine');
    });
    const client = transport();
    expect(await get(client, `${server.origin}/v2/`)).toEqual({ status: 200, text: 'fine' });
    expect(server.seen).toHaveLength(2);
    expect(client.waits).toHaveLength(1);
  });

  it('waits what Retry-After asks on a 429', async () => {
    const server = await serve((_request, response, hit) => {
      if (hit === 1) response.writeHead(429, { 'retry-after': '2' });
      response.end();
    });
    const client = transport();
    expect((await get(client, `${server.origin}/v2/`)).status).toBe(200);
    expect(client.waits).toEqual([2000]);
  });

  it('fails fast when Retry-After is over the ceiling, with the quota left', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(429, { 'retry-after': '3600', 'ratelimit-remaining': '0;w=21600' });
      response.end();
    });
    const client = transport();
    const error = await failureOf(get(client, `${server.origin}/v2/`));
    expect(error.message).toBe(
      `rate limited by ${server.host}; retry after 3600 s (remaining quota: 0;w=21600)`,
    );
    expect(server.seen).toHaveLength(1);
    expect(client.waits).toEqual([]);
  });

  it('sends a one-shot stream body once and returns the 503', async () => {
    const server = await serve((_request, response) => {
      response.statusCode = 503;
      response.end();
    });
    const client = transport();
    const response = await client.send({
      method: 'PUT',
      url: new URL(`${server.origin}/v2/a/blobs/uploads/1`),
      body: { kind: 'stream', stream: Readable.from([Buffer.from('layer bytes')]) },
    });
    expect(response.status).toBe(503);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it('re-opens a replayable body for each attempt, with its length', async () => {
    const bodies: string[] = [];
    const server = await serve((request, response, hit) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        response.statusCode = hit === 1 ? 502 : 201;
        response.end();
      });
    });
    const client = transport();
    const response = await client.send({
      method: 'PUT',
      url: new URL(`${server.origin}/upload`),
      body: { kind: 'replayable', open: () => Readable.from([Buffer.from('abc')]), length: 3 },
    });
    expect(response.status).toBe(201);
    expect(bodies).toEqual(['abc', 'abc']);
    expect(server.seen.map((seen) => seen.headers['content-length'])).toEqual(['3', '3']);
  });

  it('reports a refused connection clearly after the bounded attempts', async () => {
    const placeholder = net.createServer();
    const port = await listen(placeholder);
    await new Promise<void>((resolve) => placeholder.close(() => resolve()));
    const client = transport({ retry: { attempts: 3 } });
    const error = await failureOf(get(client, `http://127.0.0.1:${port}/v2/`));
    expect(error.message).toBe(`cannot connect to 127.0.0.1:${port}: connection refused (3 attempts)`);
    expect(error.hint).toBe('is the registry running? is the address right?');
    expect(client.waits).toHaveLength(2);
  });

  it('names the host that did not answer within the headers timeout', async () => {
    const server = await serve(() => {});
    const client = transport({ retry: { attempts: 1 }, timeouts: { headersMs: 300 } });
    const error = await failureOf(get(client, `${server.origin}/v2/`));
    expect(error.message).toBe(`${server.host} did not answer in time (within 0.3 s)`);
  });
});

describe('redirects', () => {
  it('follows a redirect to another loopback port without Authorization, cookies or custom headers', async () => {
    const storage = await serve((_request, response) => response.end('blob'));
    const registry = await serve((_request, response) => {
      response.writeHead(307, { location: `${storage.origin}/blob?sig=abc` });
      response.end();
    });
    const client = transport();
    const answer = await get(client, `${registry.origin}/v2/a/blobs/sha256:1`, {
      authorization: 'Bearer secret-token',
      cookie: 'session=1',
      'x-custom': 'mine',
      accept: 'application/octet-stream',
    });
    expect(answer).toEqual({ status: 200, text: 'blob' });
    expect(registry.seen[0]?.headers.authorization).toBe('Bearer secret-token');
    const headers = storage.seen[0]?.headers ?? {};
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-custom']).toBeUndefined();
    expect(headers.accept).toBe('application/octet-stream');
    expect(storage.seen[0]?.path).toBe('/blob?sig=abc');
  });

  it('keeps Authorization on a same-origin relative redirect', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/v2/old') response.writeHead(301, { location: '/v2/new?x=1' });
      response.end();
    });
    const client = transport();
    expect((await get(client, `${server.origin}/v2/old`, { authorization: 'Basic eDp5' })).status).toBe(200);
    expect(server.seen.map((seen) => [seen.path, seen.headers.authorization])).toEqual([
      ['/v2/old', 'Basic eDp5'],
      ['/v2/new?x=1', 'Basic eDp5'],
    ]);
  });

  it('refuses an endless chain of redirects after 10 hops', async () => {
    const server = await serve((_request, response, hit) => {
      response.writeHead(302, { location: `/hop/${hit}` });
      response.end();
    });
    const client = transport();
    const error = await failureOf(get(client, `${server.origin}/start`));
    expect(error.message).toMatch(/too many redirects \(over 10\)/);
    expect(server.seen).toHaveLength(11);
  });

  it('refuses a redirect loop', async () => {
    const server = await serve((request, response) => {
      response.writeHead(302, { location: request.url === '/a' ? '/b' : '/a' });
      response.end();
    });
    const error = await failureOf(get(transport(), `${server.origin}/a`));
    expect(error.message).toBe(`redirect loop at ${server.origin}/a`);
  });

  it('turns a POST answered by 303 into a GET', async () => {
    const server = await serve((request, response) => {
      if (request.method === 'POST') response.writeHead(303, { location: '/result' });
      response.end();
    });
    const client = transport();
    const response = await client.send({
      method: 'POST',
      url: new URL(`${server.origin}/submit`),
      body: new Uint8Array([1]),
    });
    await readBodyText(response);
    expect(server.seen.map((seen) => `${seen.method} ${seen.path}`)).toEqual(['POST /submit', 'GET /result']);
  });
});

describe('TLS', () => {
  it('refuses a self-signed certificate as TLS, pointing at the caFile option', async () => {
    const server = await serve(ok, await tlsOptions());
    const error = await failureOf(get(transport(), `${server.origin}/v2/`));
    expect(error.message).toBe(
      `TLS certificate of ${server.host} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
    expect(error.option).toBe('caFile');
    expect(server.seen).toHaveLength(0);
  });

  it('trusts the certificate given with caFile', async () => {
    const server = await serve(ok, await tlsOptions());
    expect(await get(transport({ caFile: serverPair.cert }), `${server.origin}/v2/`)).toEqual({
      status: 200,
      text: 'ok',
    });
  });

  it('skips verification with insecure', async () => {
    const server = await serve(ok, await tlsOptions());
    expect((await get(transport({ insecure: true }), `${server.origin}/v2/`)).status).toBe(200);
  });

  it('trusts a ca.crt in the certs.d directory named HOST:PORT', async () => {
    const server = await serve(ok, await tlsOptions());
    const certsDir = join(directory, 'certs.d-ca');
    await mkdir(join(certsDir, server.host), { recursive: true });
    await writeFile(join(certsDir, server.host, 'ca.crt'), await readFile(serverPair.cert));
    expect((await get(transport({ certsDir }), `${server.origin}/v2/`)).status).toBe(200);
  });

  it('presents client.cert and client.key from certs.d to a server that demands a client certificate', async () => {
    const server = await serve(
      (request, response) => {
        const socket = request.socket as import('node:tls').TLSSocket;
        response.end(socket.getPeerCertificate().subject?.CN ?? 'none');
      },
      await tlsOptions({ requestCert: true, rejectUnauthorized: true, ca: await readFile(clientPair.cert) }),
    );
    const certsDir = join(directory, 'certs.d-mtls');
    const hostDir = join(certsDir, server.host);
    await mkdir(hostDir, { recursive: true });
    await writeFile(join(hostDir, 'ca.crt'), await readFile(serverPair.cert));
    await writeFile(join(hostDir, 'client.cert'), await readFile(clientPair.cert));
    await writeFile(join(hostDir, 'client.key'), await readFile(clientPair.key));
    expect(await get(transport({ certsDir }), `${server.origin}/v2/`)).toEqual({
      status: 200,
      text: 'tug-client',
    });
  });

  it('reports a missing CA file as a usage error naming it', async () => {
    const server = await serve(ok, await tlsOptions());
    const missing = join(directory, 'missing.pem');
    await expect(get(transport({ caFile: missing }), `${server.origin}/v2/`)).rejects.toThrow(
      `cannot read the CA file ${missing}`,
    );
  });
});

describe('scheme probe for loopback registries', () => {
  it('uses plain HTTP for a loopback server that does not speak TLS, and says so in the trace', async () => {
    const server = await serve(ok);
    const lines: string[] = [];
    const client = transport({ trace: (line) => lines.push(line) });
    expect((await client.baseUrl(server.host)).href).toBe(`http://${server.host}/`);
    expect(server.seen).toHaveLength(0);
    expect(lines).toEqual([`--- ${server.host} answered a TLS handshake with plain HTTP: using http://`]);
  });

  it('uses HTTPS for a loopback server whose certificate is trusted', async () => {
    const server = await serve(ok, await tlsOptions());
    expect((await transport({ caFile: serverPair.cert }).baseUrl(server.host)).href).toBe(
      `https://${server.host}/`,
    );
    expect(server.seen.map((seen) => seen.path)).toEqual(['/v2/']);
  });

  it('fails pointing at the caFile option, never plain HTTP, when the TLS certificate is untrusted', async () => {
    const server = await serve(ok, await tlsOptions());
    const error = await failureOf(transport().baseUrl(server.host));
    expect(error.message).toMatch(/TLS certificate of .* is not trusted/);
    expect(error.option).toBe('caFile');
  });

  it('uses plain HTTP for a loopback server that closes the TLS handshake', async () => {
    const closer = net.createServer((socket) => socket.destroy());
    const port = await listen(closer);
    expect((await transport().baseUrl(`127.0.0.1:${port}`)).href).toBe(`http://127.0.0.1:${port}/`);
  });

  it('probes once for concurrent callers and remembers the answer', async () => {
    let handshakes = 0;
    const server = await serve(ok);
    const counting = net.createServer((socket) => {
      handshakes++;
      const upstream = net.connect(server.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    const port = await listen(counting);
    const client = transport();
    const urls = await Promise.all([1, 2, 3].map(() => client.baseUrl(`127.0.0.1:${port}`)));
    await client.baseUrl(`127.0.0.1:${port}`);
    expect(urls.map((url) => url.protocol)).toEqual(['http:', 'http:', 'http:']);
    expect(handshakes).toBe(1);
  });

  it('tells a plain-HTTP server, or one that closes the handshake, from a TLS one without trusting its certificate', async () => {
    const plain = await serve(ok);
    const tls = await serve(ok, await tlsOptions());
    const closer = net.createServer((socket) => socket.destroy());
    const closing = await listen(closer);
    const refused = await listen(net.createServer());
    await new Promise<void>((resolve) => servers.at(-1)?.close(() => resolve()));
    const asks = (origin: string) => answersPlainHttp(new URL(origin), defaultTimeouts);
    expect(await asks(`https://${plain.host}`)).toBe(true);
    expect(await asks(`https://127.0.0.1:${closing}`)).toBe(true);
    expect(await asks(`https://${tls.host}`)).toBe(false);
    expect(await asks(`https://127.0.0.1:${refused}`)).toBe(false);
    expect([...plain.seen, ...tls.seen]).toHaveLength(0);
  });

  it('never probes with plainHttp', async () => {
    const server = await serve(ok, await tlsOptions());
    expect((await transport({ plainHttp: true }).baseUrl(server.host)).href).toBe(`http://${server.host}/`);
  });
});

describe('proxy', () => {
  async function connectProxy(): Promise<{ origin: string; targets: string[] }> {
    const targets: string[] = [];
    const proxy = http.createServer((_request, response) => {
      response.statusCode = 405;
      response.end();
    });
    proxy.on('connect', (request: IncomingMessage, socket: net.Socket, head: Buffer) => {
      targets.push(request.url ?? '');
      const [host = '', port = ''] = (request.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    const port = await listen(proxy);
    return { origin: `http://127.0.0.1:${port}`, targets };
  }

  it('goes through HTTP_PROXY, loopback included, when NO_PROXY does not name the host', async () => {
    const proxy = await connectProxy();
    const server = await serve(ok);
    expect((await get(transport({ env: { HTTP_PROXY: proxy.origin } }), `${server.origin}/v2/`)).status).toBe(
      200,
    );
    expect(proxy.targets).toEqual([server.host]);
  });

  it('goes direct when NO_PROXY names the host', async () => {
    const proxy = await connectProxy();
    const server = await serve(ok);
    const env = { http_proxy: proxy.origin, no_proxy: '127.0.0.1' };
    expect((await get(transport({ env }), `${server.origin}/v2/`)).status).toBe(200);
    expect(proxy.targets).toEqual([]);
    expect(server.seen).toHaveLength(1);
  });
});

describe('wire details', () => {
  it('sends the User-Agent and traces each hop with Authorization and signatures redacted', async () => {
    const storage = await serve(ok);
    const registry = await serve((_request, response) => {
      response.writeHead(307, { location: `${storage.origin}/blob?X-Amz-Signature=SIGNED` });
      response.end();
    });
    const lines: string[] = [];
    const client = transport({ userAgent: 'tug/9.9.9', trace: (line) => lines.push(line) });
    await get(client, `${registry.origin}/v2/a/blobs/sha256:1`, { authorization: 'Bearer SECRET' });
    expect(registry.seen[0]?.headers['user-agent']).toBe('tug/9.9.9');
    expect(storage.seen[0]?.headers['user-agent']).toBe('tug/9.9.9');
    const trace = lines.join('\n');
    expect(lines.filter((line) => line.startsWith('--> GET'))).toHaveLength(2);
    expect(lines.some((line) => /^<-- 307 GET .* \(\d+ ms\)/.test(line))).toBe(true);
    expect(trace).toContain('"authorization":"***"');
    expect(trace).toContain('X-Amz-Signature=***');
    expect(trace).not.toContain('SECRET');
    expect(trace).not.toContain('SIGNED');
  });

  it('keeps the connection open after a HEAD, as registry clients in Go do', async () => {
    const server = await serve(ok);
    let connections = 0;
    servers.at(-1)?.on('connection', () => {
      connections += 1;
    });
    const client = transport();
    for (let check = 0; check < 20; check++) {
      const response = await client.send({
        method: 'HEAD',
        url: new URL(`${server.origin}/v2/a/blobs/sha256:1`),
      });
      discardBody(response);
    }
    expect(await get(client, `${server.origin}/v2/`)).toEqual({ status: 200, text: 'ok' });
    expect(server.seen.map((seen) => seen.method)).toEqual([...Array(20).fill('HEAD'), 'GET']);
    // Not one: a request that follows at once can find the first connection not yet free, and
    // the pool opens a second, which it keeps as well (a GET after a GET does the same).
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('answers the request after a HEAD correctly when the server sent a body with the HEAD', async () => {
    const answers = {
      HEAD: 'HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nnot for HEAD',
      GET: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nright',
    };
    const port = await listen(
      net.createServer((socket) => {
        socket.on('data', (data: Buffer) => {
          for (const method of data.toString('latin1').match(/^(HEAD|GET) /gm) ?? []) {
            socket.write(answers[method.trim() as keyof typeof answers]);
          }
        });
      }),
    );
    const client = transport();
    const head = await client.send({
      method: 'HEAD',
      url: new URL(`http://127.0.0.1:${port}/v2/a/manifests/v1`),
    });
    expect(head.status).toBe(200);
    discardBody(head);
    expect(await get(client, `http://127.0.0.1:${port}/v2/a/manifests/v1`)).toEqual({
      status: 200,
      text: 'right',
    });
  });

  it('reads a capped body and refuses one byte more', async () => {
    const server = await serve((_request, response) => response.end(Buffer.alloc(2048, 'a')));
    const client = transport();
    const full = await client.send({ method: 'GET', url: new URL(`${server.origin}/x`) });
    expect(await readBodyText(full, 2048)).toHaveLength(2048);
    const over = await client.send({ method: 'GET', url: new URL(`${server.origin}/x`) });
    await expect(readBodyText(over, 2047)).rejects.toThrow(SizeLimitError);
  });
});
