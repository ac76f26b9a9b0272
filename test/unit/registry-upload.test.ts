import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { DigestMismatchError, TransportError } from '../../src/errors.js';
import { checkUploadedRange, openUpload, uploadLocation } from '../../src/registry/upload.js';
import { claimForOneReader, markUnread } from '../../src/transport/socket-reads.js';
import type { HttpRequest, HttpResponse, RequestBody } from '../../src/transport/types.js';

/** What the upload said it was done with, in order (the real release still runs). */
const released = vi.hoisted((): Uint8Array[] => []);
vi.mock('../../src/transport/socket-reads.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/transport/socket-reads.js')>();
  return {
    ...actual,
    releaseReceived: (chunks: readonly Uint8Array[]) => {
      released.push(...chunks);
      actual.releaseReceived(chunks);
    },
  };
});

const registry = new URL('http://127.0.0.1:5000');
const start = new URL('/v2/app/blobs/uploads/', registry);

describe('uploadLocation', () => {
  it('resolves a relative Location against the request URL and keeps its query', () => {
    const url = uploadLocation('u1?_state=abc&x=1', start, registry);
    expect(url.href).toBe('http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=abc&x=1');
    expect(uploadLocation('/v2/app/blobs/uploads/u2', start, registry).pathname).toBe(
      '/v2/app/blobs/uploads/u2',
    );
  });

  it('accepts an absolute Location on the registry origin', () => {
    const url = uploadLocation('http://127.0.0.1:5000/v2/app/blobs/uploads/u3', start, registry);
    expect(url.pathname).toBe('/v2/app/blobs/uploads/u3');
  });

  it('refuses a Location on another host, port or scheme, and a missing one', () => {
    for (const location of [
      'http://169.254.169.254/latest',
      'http://127.0.0.1:5001/v2/app/blobs/uploads/u',
      'https://127.0.0.1:5000/v2/app/blobs/uploads/u',
    ]) {
      expect(() => uploadLocation(location, start, registry)).toThrow(/another origin/);
    }
    expect(() => uploadLocation(undefined, start, registry)).toThrow(/without a Location/);
  });
});

describe('checkUploadedRange', () => {
  it('accepts both Range forms that match the bytes sent, and no Range at all', () => {
    expect(() => checkUploadedRange('0-1023', 1024, 'r')).not.toThrow();
    expect(() => checkUploadedRange('bytes=0-1023', 1024, 'r')).not.toThrow();
    expect(() => checkUploadedRange(undefined, 1024, 'r')).not.toThrow();
  });

  it('refuses a Range that says the registry holds other bytes', () => {
    expect(() => checkUploadedRange('0-511', 1024, 'r')).toThrow(TransportError);
    expect(() => checkUploadedRange('junk', 1024, 'r')).toThrow(/malformed Range/);
  });
});

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  bytes: number;
  content: Buffer;
}

/** What a scripted registry keeps of a request: its line, headers and whole body. */
async function recordOf(request: HttpRequest): Promise<Recorded> {
  const content = Buffer.concat(await bodyPieces(request.body));
  return {
    method: request.method,
    url: request.url.href,
    headers: request.headers ?? {},
    bytes: content.byteLength,
    content,
  };
}

/** A request body read whole, as the buffers it is made of. */
async function bodyPieces(body: RequestBody | undefined): Promise<Buffer[]> {
  if (body === undefined) return [];
  if (body instanceof Uint8Array) return [Buffer.from(body)];
  const stream = body.kind === 'replayable' ? body.open() : body.stream;
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return pieces;
}

/** A registry that hands out a new Location on every answer and can be told to fail one step. */
function fakeRegistry(options: { failOn?: string; answeredDigest?: string } = {}) {
  const recorded: Recorded[] = [];
  let sessions = 0;
  const answer = (status: number, headers: Record<string, string>, url: URL): HttpResponse => ({
    status,
    headers,
    body: Readable.from([]),
    url,
  });
  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    recorded.push(await recordOf(request));
    if (options.failOn === request.method) return answer(500, {}, request.url);
    sessions += 1;
    const location = `/v2/app/blobs/uploads/s${sessions}?_state=${sessions}`;
    if (request.method === 'POST' || request.method === 'PATCH')
      return answer(202, { location }, request.url);
    if (request.method === 'PUT') {
      const digest = options.answeredDigest ?? request.url.searchParams.get('digest') ?? '';
      return answer(201, { 'docker-content-digest': digest }, request.url);
    }
    return answer(204, {}, request.url);
  };
  return { connection: { send, baseUrl: registry }, recorded };
}

function blob(size: number) {
  const bytes = randomBytes(size);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { bytes, descriptor: { mediaType: 'application/octet-stream', digest, size } };
}

const upload = (
  connection: ReturnType<typeof fakeRegistry>['connection'],
  content: ReturnType<typeof blob>,
  sizes: { monolithicMax: number; chunkSize: number },
) => uploadThrough(connection.send, content, Readable.from([content.bytes]), sizes);

describe('openUpload and send', () => {
  it('sends a small blob in one PUT with the digest, at the Location the POST gave', async () => {
    const content = blob(1000);
    const { connection, recorded } = fakeRegistry();
    await upload(connection, content, { monolithicMax: 4096, chunkSize: 256 });
    expect(recorded.map((call) => call.method)).toEqual(['POST', 'PUT']);
    const put = new URL(recorded[1]?.url ?? '');
    expect(put.pathname).toBe('/v2/app/blobs/uploads/s1');
    expect(put.searchParams.get('_state')).toBe('1');
    expect(put.searchParams.get('digest')).toBe(content.descriptor.digest);
    expect(recorded[1]?.bytes).toBe(1000);
  });

  it('sends a large blob in PATCH chunks with Content-Range, always at the latest Location', async () => {
    const content = blob(1000);
    const { connection, recorded } = fakeRegistry();
    await upload(connection, content, { monolithicMax: 500, chunkSize: 400 });
    expect(recorded.map((call) => call.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(recorded.slice(1, 4).map((call) => call.headers['content-range'])).toEqual([
      '0-399',
      '400-799',
      '800-999',
    ]);
    expect(recorded.slice(1, 4).map((call) => call.bytes)).toEqual([400, 400, 200]);
    expect(recorded.slice(1).map((call) => new URL(call.url).pathname)).toEqual([
      '/v2/app/blobs/uploads/s1',
      '/v2/app/blobs/uploads/s2',
      '/v2/app/blobs/uploads/s3',
      '/v2/app/blobs/uploads/s4',
    ]);
    expect(recorded[4]?.bytes).toBe(0);
    expect(new URL(recorded[4]?.url ?? '').searchParams.get('digest')).toBe(content.descriptor.digest);
  });

  it('cancels the session at its latest Location when a chunk fails', async () => {
    const { connection, recorded } = fakeRegistry({ failOn: 'PATCH' });
    await expect(upload(connection, blob(1000), { monolithicMax: 500, chunkSize: 400 })).rejects.toThrow(
      /HTTP 500/,
    );
    expect(recorded.map((call) => call.method)).toEqual(['POST', 'PATCH', 'DELETE']);
    expect(new URL(recorded[2]?.url ?? '').pathname).toBe('/v2/app/blobs/uploads/s1');
  });

  it('refuses a registry that says it stored another digest, and cancels the session', async () => {
    const { connection, recorded } = fakeRegistry({ answeredDigest: `sha256:${'0'.repeat(64)}` });
    await expect(
      upload(connection, blob(100), { monolithicMax: 500, chunkSize: 400 }),
    ).rejects.toBeInstanceOf(DigestMismatchError);
    expect(recorded.at(-1)?.method).toBe('DELETE');
  });
});

/** A source that has all its pieces buffered before it is read, as a blob's stream has under load. */
function bufferedSource(bytes: Buffer, pieceSize: number): { stream: Readable; pieces: Buffer[] } {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.byteLength; at += pieceSize) {
    pieces.push(Buffer.from(bytes.subarray(at, at + pieceSize)));
  }
  const stream = new Readable({ highWaterMark: bytes.byteLength, read() {} });
  for (const piece of pieces) stream.push(piece);
  stream.push(null);
  return { stream, pieces };
}

/** A registry that takes every step of an upload: 202 with a Location, then 201 with the digest. */
function accepted(request: HttpRequest): HttpResponse {
  const digest = request.url.searchParams.get('digest') ?? '';
  return {
    status: request.method === 'PUT' ? 201 : 202,
    headers: { location: '/v2/app/blobs/uploads/s', 'docker-content-digest': digest },
    body: Readable.from([]),
    url: request.url,
  };
}

/** Uploads `content`, read from `stream`, through `send`: a session opened, then the bytes sent. */
async function uploadThrough(
  send: (request: HttpRequest) => Promise<HttpResponse>,
  content: ReturnType<typeof blob>,
  stream: Readable,
  sizes: { monolithicMax: number; chunkSize: number },
) {
  const opened = await openUpload({
    connection: { send, baseUrl: registry },
    repository: 'app',
    descriptor: content.descriptor,
    scopes: ['repository:app:pull,push'],
    ...sizes,
    describe: (what) => `${what} app`,
  });
  await opened.send({ kind: 'stream', stream, length: content.bytes.byteLength });
}

describe('send gathers each chunk in one buffer', () => {
  it('sends every chunk from one buffer, refilled only after the registry answered the chunk before', async () => {
    const content = blob(1000);
    const source = bufferedSource(content.bytes, 70);
    const bodies: Uint8Array[] = [];
    const held: Buffer[] = [];
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      if (request.method === 'PATCH') {
        const body = request.body;
        if (!(body instanceof Uint8Array)) throw new Error('a chunk is sent as one buffer');
        bodies.push(body);
        // The registry takes the bytes when it answers, after the source had time to move on.
        await new Promise((resolve) => setTimeout(resolve, 5));
        held.push(Buffer.from(body));
      }
      return accepted(request);
    };
    await uploadThrough(send, content, source.stream, { monolithicMax: 500, chunkSize: 400 });
    expect(held.map((chunk) => chunk.byteLength)).toEqual([400, 400, 200]);
    expect(Buffer.concat(held).equals(content.bytes)).toBe(true);
    // One buffer for the whole upload, and none of the source's reads kept by a chunk.
    expect(new Set(bodies.map((body) => body.buffer)).size).toBe(1);
    const sourceMemory = new Set(source.pieces.map((piece) => piece.buffer));
    expect(bodies.some((body) => sourceMemory.has(body.buffer as ArrayBuffer))).toBe(false);
  });

  it('says it is done with each piece of a claimed source once every byte of it is in a chunk', async () => {
    const content = blob(1000);
    const source = bufferedSource(content.bytes, 70);
    claimForOneReader(markUnread(source.stream));
    released.length = 0;
    const gathered: number[] = [];
    let total = 0;
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      if (request.method === 'PATCH' && request.body instanceof Uint8Array) {
        total += request.body.byteLength;
        gathered.push(released.length);
      }
      return accepted(request);
    };
    await uploadThrough(send, content, source.stream, { monolithicMax: 500, chunkSize: 400 });
    expect(released).toEqual(source.pieces);
    expect(released.every((piece, i) => piece === source.pieces[i])).toBe(true);
    // When the first chunk (400 bytes) went out, the five whole pieces in it (350 bytes) were
    // released, and the sixth, split across two chunks, was not yet.
    expect(gathered[0]).toBe(5);
    expect(total).toBe(1000);
  });

  it('says nothing of a source it was not given alone', async () => {
    const content = blob(1000);
    const source = bufferedSource(content.bytes, 70);
    released.length = 0;
    await uploadThrough(async (request) => accepted(request), content, source.stream, {
      monolithicMax: 500,
      chunkSize: 400,
    });
    expect(released).toEqual([]);
  });

  it('gives a blob smaller than a chunk a buffer of its own size', async () => {
    const content = blob(300);
    const bodies: Uint8Array[] = [];
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      if (request.method === 'PATCH' && request.body instanceof Uint8Array) bodies.push(request.body);
      return accepted(request);
    };
    await uploadThrough(send, content, Readable.from([content.bytes]), {
      monolithicMax: 0,
      chunkSize: 64 * 1024 * 1024,
    });
    expect(bodies.map((body) => [body.byteLength, body.buffer.byteLength])).toEqual([[300, 300]]);
  });

  it('when the source fails during a PATCH, settles and cancels only once that PATCH is answered', async () => {
    const content = blob(1000);
    const events: string[] = [];
    let answerPatch = () => {};
    const patchAnswered = new Promise<void>((resolve) => {
      answerPatch = resolve;
    });
    const source = new Readable({ read() {} });
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      await bodyPieces(request.body);
      events.push(`${request.method} sent`);
      if (request.method === 'PATCH') {
        source.destroy(new Error('source failed'));
        await patchAnswered;
        events.push('PATCH answered');
      }
      return {
        status: 202,
        headers: { location: '/v2/app/blobs/uploads/s' },
        body: Readable.from([]),
        url: request.url,
      };
    };
    const uploading = uploadThrough(send, content, source, { monolithicMax: 500, chunkSize: 400 }).catch(
      (error: unknown) => error,
    );
    source.push(content.bytes.subarray(0, 400));
    await new Promise((resolve) => setTimeout(resolve, 50));
    events.push('waited');
    answerPatch();
    expect(await uploading).toEqual(new Error('source failed'));
    expect(events).toEqual(['POST sent', 'PATCH sent', 'waited', 'PATCH answered', 'DELETE sent']);
  });
});

describe('send keeps chunked uploads in step', () => {
  /** A registry scripted per PATCH: the answer to each chunk, and what GET on the session says it holds. */
  function scripted(patchAnswers: number[], held: number[]) {
    const recorded: Recorded[] = [];
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      recorded.push(await recordOf(request));
      const reply = (status: number, headers: Record<string, string> = {}): HttpResponse => ({
        status,
        headers: { location: '/v2/app/blobs/uploads/s', ...headers },
        body: Readable.from([]),
        url: request.url,
      });
      if (request.method === 'PATCH') return reply(patchAnswers.shift() ?? 202);
      if (request.method === 'GET') {
        const count = held.shift() ?? 0;
        return reply(204, { range: `0-${Math.max(count - 1, 0)}` });
      }
      if (request.method === 'PUT')
        return reply(201, { 'docker-content-digest': request.url.searchParams.get('digest') ?? '' });
      return reply(request.method === 'POST' ? 202 : 204);
    };
    return { connection: { send, baseUrl: registry }, recorded };
  }

  it('accepts a chunk answered 201 (as ECR answers)', async () => {
    const content = blob(1000);
    const { connection, recorded } = scripted([201, 201, 201], []);
    await upload(connection, content, { monolithicMax: 500, chunkSize: 400 });
    expect(recorded.map((call) => call.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
  });

  it('after a 416, re-sends a chunk the session does not hold, and skips one it does', async () => {
    const content = blob(1000);
    // First chunk: 416, the session holds 0 → re-sent. Second chunk: 416, the session holds 800 → it had landed.
    const { connection, recorded } = scripted([416, 202, 416], [0, 800]);
    await upload(connection, content, { monolithicMax: 500, chunkSize: 400 });
    expect(recorded.map((call) => call.method)).toEqual([
      'POST',
      'PATCH',
      'GET',
      'PATCH',
      'PATCH',
      'GET',
      'PATCH',
      'PUT',
    ]);
    expect(
      recorded.filter((call) => call.method === 'PATCH').map((call) => call.headers['content-range']),
    ).toEqual(['0-399', '0-399', '400-799', '800-999']);
    const patches = recorded.filter((call) => call.method === 'PATCH').map((call) => call.content);
    expect(patches[1]?.equals(content.bytes.subarray(0, 400))).toBe(true);
    expect(patches[0]?.equals(patches[1] ?? Buffer.alloc(0))).toBe(true);
    expect(patches[3]?.equals(content.bytes.subarray(800))).toBe(true);
  });

  it('fails clearly when the session holds a count that fits neither', async () => {
    const content = blob(1000);
    const { connection } = scripted([416], [123]);
    await expect(upload(connection, content, { monolithicMax: 500, chunkSize: 400 })).rejects.toThrow(
      /holds 123 bytes/,
    );
  });
});
