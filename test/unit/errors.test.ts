import { describe, expect, it } from 'vitest';
import { asUserInput, ExitCode, exitCodeFor, hintFor } from '../../src/cli/errors.js';
import { CopyError } from '../../src/copy/copy-error.js';
import {
  AuthError,
  ErrorCodes,
  findTugError,
  InvalidContentError,
  InvalidReferenceError,
  isTugError,
  NotFoundError,
  SizeLimitError,
  TransportError,
  TugError,
} from '../../src/errors.js';
import { parseManifest } from '../../src/oci/index.js';
import { classifyFailure } from '../../src/registry/errors.js';
import { describeNetworkError } from '../../src/transport/network-error.js';

const blob = { mediaType: 'application/octet-stream', digest: `sha256:${'a'.repeat(64)}`, size: 1 };

describe('error codes', () => {
  it('give every kind its stable code and transience', () => {
    expect(new TugError('x')).toMatchObject({ code: 'INTERNAL', transient: false });
    expect(new InvalidReferenceError('a b', 'spaces are not allowed').code).toBe('USAGE');
    expect(new AuthError('who?').code).toBe('UNAUTHORIZED');
    expect(new AuthError('no', { code: 'DENIED' }).code).toBe('DENIED');
    expect(new NotFoundError('gone').code).toBe('NOT_FOUND');
    expect(new SizeLimitError('big').code).toBe('TOO_LARGE');
    expect(new TransportError('odd answer')).toMatchObject({ code: 'SERVER', transient: false });
    expect(new TugError('slow down', { code: 'RATE_LIMITED' }).transient).toBe(true);
    expect(ErrorCodes).toContain(new InvalidContentError('bad').code);
  });

  it('mark a 5xx answer transient and a 4xx not, a 429 as RATE_LIMITED', () => {
    const request = { method: 'GET' as const, url: new URL('https://r.example/v2/app/manifests/1') };
    expect(classifyFailure('get', request, 503, undefined)).toMatchObject({
      code: 'SERVER',
      transient: true,
    });
    expect(classifyFailure('get', request, 400, undefined)).toMatchObject({
      code: 'SERVER',
      transient: false,
    });
    expect(classifyFailure('get', request, 429, undefined)).toMatchObject({
      code: 'RATE_LIMITED',
      transient: true,
    });
    expect(classifyFailure('put', request, 413, undefined).code).toBe('TOO_LARGE');
    expect(classifyFailure('delete', request, 405, undefined).code).toBe('UNSUPPORTED');
  });

  it('name network failures as TLS, TIMEOUT or NETWORK', () => {
    const url = new URL('https://r.example/v2/');
    const timeouts = { connectMs: 1000, headersMs: 1000, bodyIdleMs: 1000 };
    const failure = (code: string) => Object.assign(new Error(code), { code });
    expect(describeNetworkError(failure('CERT_HAS_EXPIRED'), url, timeouts).code).toBe('TLS');
    expect(describeNetworkError(failure('UND_ERR_HEADERS_TIMEOUT'), url, timeouts)).toMatchObject({
      code: 'TIMEOUT',
      transient: true,
    });
    expect(describeNetworkError(failure('ECONNRESET'), url, timeouts)).toMatchObject({
      code: 'NETWORK',
      systemCode: 'ECONNRESET',
    });
  });
});

describe('isTugError', () => {
  it('finds a code through cause chains: a blob missing inside a copy is still NOT_FOUND', () => {
    const missing = new NotFoundError('blob not found');
    const copy = new CopyError('source', blob, 'fetching a blob', new Error('wrapped', { cause: missing }));
    expect(isTugError(copy, 'NOT_FOUND')).toBe(true);
    expect(isTugError(copy, 'DENIED')).toBe(false);
    expect(copy.code).toBe('NOT_FOUND');
    expect(findTugError(new Error('outer', { cause: missing }), 'NOT_FOUND')).toBe(missing);
  });

  it('answers false for what is not a tug error, and stops on a cycle of causes', () => {
    const looped = new Error('a');
    Object.assign(looped, { cause: looped });
    expect(isTugError(looped)).toBe(false);
    expect(isTugError('NOT_FOUND')).toBe(false);
    expect(isTugError(new TugError('x'))).toBe(true);
  });

  it('lets a copy error carry the code, transience and hint of what it wraps', () => {
    const copy = new CopyError(
      'destination',
      blob,
      'pushing',
      new TugError('slow', { code: 'RATE_LIMITED' }),
    );
    expect(copy).toMatchObject({ code: 'RATE_LIMITED', transient: true });
    expect(new CopyError('source', blob, 'fetching', new Error('plain')).code).toBe('INTERNAL');
  });
});

describe('the CLI view of errors', () => {
  it('maps codes to exit codes', () => {
    expect(exitCodeFor(new TugError('x'))).toBe(ExitCode.failure);
    expect(exitCodeFor(new InvalidReferenceError('a b', 'spaces'))).toBe(ExitCode.usage);
    expect(exitCodeFor(new AuthError('no', { code: 'DENIED' }))).toBe(ExitCode.auth);
    expect(exitCodeFor(new CopyError('source', blob, 'fetching', new NotFoundError('gone')))).toBe(
      ExitCode.notFound,
    );
    expect(exitCodeFor(new Error('plain'))).toBe(ExitCode.failure);
  });

  it('exits 1, not 2, on a broken manifest from a server, and 2 on one the user gave', () => {
    const broken = Buffer.from('{"schemaVersion": 2,');
    const fromServer = (() => {
      try {
        return parseManifest(broken);
      } catch (error) {
        return error;
      }
    })();
    expect(exitCodeFor(fromServer)).toBe(ExitCode.failure);
    const fromUser = (() => {
      try {
        return asUserInput('manifest.json', () => parseManifest(broken));
      } catch (error) {
        return error;
      }
    })();
    expect(exitCodeFor(fromUser)).toBe(ExitCode.usage);
    expect((fromUser as Error).message).toMatch(/^manifest\.json: /);
  });

  it('names the flag for the option a library error points at; library hints name no flag', () => {
    const url = new URL('https://r.example/v2/');
    const timeouts = { connectMs: 1000, headersMs: 1000, bodyIdleMs: 1000 };
    const error = describeNetworkError(
      Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }),
      url,
      timeouts,
    );
    expect(error.hint).not.toMatch(/--/);
    expect(hintFor(error)).toContain('--ca-file');
    expect(hintFor(new TugError('x', { hint: 'do this' }))).toBe('do this');
  });
});
