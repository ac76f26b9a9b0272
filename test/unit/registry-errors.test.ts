import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AuthError, NotFoundError } from '../../src/errors.js';
import {
  classifyFailure,
  errorFromResponse,
  parseErrorBody,
  RegistryError,
  subjectOf,
} from '../../src/registry/errors.js';
import type { HttpMethod, HttpRequest, HttpResponse } from '../../src/transport/types.js';

const origin = 'http://127.0.0.1:5000';

function request(method: HttpMethod, path: string): HttpRequest {
  return { method, url: new URL(path, origin) };
}

function response(status: number, body: string | Buffer): HttpResponse {
  return { status, headers: {}, body: Readable.from([Buffer.from(body)]), url: new URL(origin) };
}

const body = (code: string, message?: string) =>
  JSON.stringify({ errors: [{ code, message, detail: { x: 1 } }] });

describe('parseErrorBody', () => {
  it('reads the errors array of the spec, keeping code, message and detail', () => {
    expect(parseErrorBody(body('MANIFEST_UNKNOWN', 'manifest unknown'))).toEqual([
      { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { x: 1 } },
    ]);
  });

  it('treats HTML, JSON without errors and entries without a code as no error body', () => {
    expect(parseErrorBody('<html>bad gateway</html>')).toBeUndefined();
    expect(parseErrorBody('{"message":"oops"}')).toBeUndefined();
    expect(parseErrorBody('{"errors":[{"message":"no code"}, 7]}')).toBeUndefined();
    expect(parseErrorBody('null')).toBeUndefined();
  });
});

describe('subjectOf', () => {
  it('names manifests by tag or digest, blobs, uploads, tag lists and the catalog', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(subjectOf(new URL(`${origin}/v2/team/app/manifests/v1`))).toEqual({
      kind: 'manifest',
      name: '127.0.0.1:5000/team/app:v1',
    });
    expect(subjectOf(new URL(`${origin}/v2/app/manifests/${digest}`)).name).toBe(
      `127.0.0.1:5000/app@${digest}`,
    );
    expect(subjectOf(new URL(`${origin}/v2/app/blobs/${digest}`))).toEqual({
      kind: 'blob',
      name: `127.0.0.1:5000/app@${digest}`,
    });
    expect(subjectOf(new URL(`${origin}/v2/app/blobs/uploads/abc?_state=x`)).kind).toBe('upload');
    expect(subjectOf(new URL(`${origin}/v2/app/blobs/uploads/`)).kind).toBe('upload');
    expect(subjectOf(new URL(`${origin}/v2/a/b/tags/list?n=5`))).toEqual({
      kind: 'repository',
      name: '127.0.0.1:5000/a/b',
    });
    expect(subjectOf(new URL(`${origin}/v2/_catalog`)).kind).toBe('catalog');
  });
});

describe('classifyFailure', () => {
  it('maps a 404 on a manifest to NotFoundError naming the reference', () => {
    const error = classifyFailure(
      'resolve v1 in app',
      request('HEAD', '/v2/app/manifests/v1'),
      404,
      undefined,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('manifest not found: 127.0.0.1:5000/app:v1');
    expect(error.code).toBe('NOT_FOUND');
  });

  it('names the repository when the registry says NAME_UNKNOWN', () => {
    const error = classifyFailure('list tags', request('GET', '/v2/gone/tags/list'), 404, [
      { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' },
    ]);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('repository not found: 127.0.0.1:5000/gone');
  });

  it('takes BLOB_UNKNOWN as not found even with another status', () => {
    const error = classifyFailure('get', request('GET', `/v2/app/blobs/sha256:${'b'.repeat(64)}`), 400, [
      { code: 'BLOB_UNKNOWN' },
    ]);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(/^blob not found: 127\.0\.0\.1:5000\/app@sha256:b+$/);
  });

  it('maps 401, 403 and DENIED to AuthError with the login hint', () => {
    for (const [status, errors] of [
      [401, undefined],
      [403, undefined],
      [400, [{ code: 'DENIED', message: 'requested access to the resource is denied' }]],
    ] as const) {
      const error = classifyFailure('push v1 to app', request('PUT', '/v2/app/manifests/v1'), status, [
        ...(errors ?? []),
      ]);
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe(status === 401 ? 'UNAUTHORIZED' : 'DENIED');
      expect(error.hint).toBe('tug login 127.0.0.1:5000');
    }
  });

  it('says an expired upload session must be pushed again, not that something is missing', () => {
    const expired = classifyFailure('upload', request('PATCH', '/v2/app/blobs/uploads/u1'), 404, [
      { code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' },
    ]);
    expect(expired).toBeInstanceOf(RegistryError);
    expect(expired).not.toBeInstanceOf(NotFoundError);
    expect(expired.hint).toBe('the upload session expired; push again');
    const bare = classifyFailure(
      'upload',
      request('PUT', '/v2/app/blobs/uploads/u1?digest=x'),
      404,
      undefined,
    );
    expect(bare.hint).toBe('the upload session expired; push again');
  });

  it('says a 413 manifest is too large for the registry', () => {
    const error = classifyFailure('push', request('PUT', '/v2/app/manifests/v1'), 413, undefined);
    expect(error.message).toMatch(/^manifest too large for the registry: 127\.0\.0\.1:5000\/app:v1/);
  });

  it('explains a refused delete with a hint', () => {
    const error = classifyFailure(
      'delete manifest',
      request('DELETE', `/v2/app/manifests/sha256:${'c'.repeat(64)}`),
      405,
      [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }],
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toBe(
      'delete manifest: not supported by 127.0.0.1:5000 (UNSUPPORTED: The operation is unsupported.)',
    );
    expect(error.hint).toBe('the registry has deletes disabled');
  });

  it('keeps method, redacted URL, status and codes on a RegistryError', () => {
    const signed = request('GET', '/v2/app/blobs/uploads/u1?X-Amz-Signature=secret&_state=s');
    const error = classifyFailure('upload', signed, 500, [{ code: 'UNKNOWN', message: 'boom\n\tat line 2' }]);
    expect(error).toBeInstanceOf(RegistryError);
    const registryError = error as RegistryError;
    expect(registryError.method).toBe('GET');
    expect(registryError.status).toBe(500);
    expect(registryError.errors.map((entry) => entry.code)).toEqual(['UNKNOWN']);
    expect(registryError.url).not.toContain('secret');
    expect(registryError.message).not.toContain('secret');
    expect(registryError.message).not.toContain('\n');
    expect(registryError.message).toContain('UNKNOWN: boom at line 2');
  });
});

describe('errorFromResponse', () => {
  it('reports a non-JSON error body as one HTTP line naming the host and the call', async () => {
    const error = await errorFromResponse(
      'resolve v1 in app',
      request('GET', '/v2/app/manifests/v1'),
      response(502, '<html>\n<body>Bad Gateway</body>\n</html>'),
    );
    expect(error.message).toBe('HTTP 502 from 127.0.0.1:5000 (GET /v2/app/manifests/v1)');
  });

  it('does not read an error body past 1 MiB and then treats it as not JSON', async () => {
    const oversized = Buffer.from(
      JSON.stringify({ errors: [{ code: 'DENIED', message: 'x'.repeat(1024 * 1024) }] }),
    );
    const error = await errorFromResponse(
      'push',
      request('PUT', '/v2/app/manifests/v1'),
      response(500, oversized),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toBe('HTTP 500 from 127.0.0.1:5000 (PUT /v2/app/manifests/v1)');
  });

  it('puts the registry code and message into a JSON error', async () => {
    const error = await errorFromResponse(
      'put manifest v1 to 127.0.0.1:5000/app',
      request('PUT', '/v2/app/manifests/v1'),
      response(400, body('MANIFEST_INVALID', 'manifest invalid')),
    );
    expect(error.message).toBe(
      'put manifest v1 to 127.0.0.1:5000/app failed: MANIFEST_INVALID: manifest invalid; HTTP 400 from 127.0.0.1:5000 (PUT /v2/app/manifests/v1)',
    );
  });
});
