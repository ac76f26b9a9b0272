import {
  AuthError,
  type ErrorCode,
  NotFoundError,
  TransportError,
  type TugError,
  type TugErrorOptions,
} from '../errors.js';
import { MAX_SMALL_BODY, readBodyText, redactUrl } from '../transport/index.js';
import type { HttpRequest, HttpResponse } from '../transport/types.js';

/** One entry of a registry's `{"errors": [...]}` answer. */
export interface RegistryErrorDetail {
  code: string;
  message?: string;
  detail?: unknown;
}

/** An error answer of a registry: method, redacted URL, status and the parsed `errors[]`. */
export class RegistryError extends TransportError {
  constructor(
    message: string,
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly errors: RegistryErrorDetail[],
    hint?: string,
    code: ErrorCode = 'SERVER',
    option?: string,
  ) {
    super(message, { hint, code, option, transient: status >= 500 || status === 429 });
  }
}

/** The spec's `{"errors": [...]}` body, or undefined for anything else (HTML, plain text, garbage). */
export function parseErrorBody(text: string): RegistryErrorDetail[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const listed = typeof parsed === 'object' && parsed !== null ? (parsed as { errors?: unknown }).errors : [];
  if (!Array.isArray(listed)) return undefined;
  const errors = listed.flatMap((entry: unknown): RegistryErrorDetail[] => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { code, message, detail } = entry as Record<string, unknown>;
    if (typeof code !== 'string') return [];
    return [{ code, ...(typeof message === 'string' ? { message } : {}), detail }];
  });
  return errors.length > 0 ? errors : undefined;
}

export type SubjectKind =
  | 'manifest'
  | 'blob'
  | 'upload'
  | 'repository'
  | 'referrers'
  | 'catalog'
  | 'registry';

/** What a Distribution API URL is about, named as a user would write it. */
export interface RequestSubject {
  kind: SubjectKind;
  name: string;
}

export function subjectOf(url: URL): RequestSubject {
  const host = url.host;
  const path = url.pathname;
  const upload = /^\/v2\/(.+)\/blobs\/uploads(?:\/[^/]*)?$/.exec(path);
  if (upload) return { kind: 'upload', name: `${host}/${upload[1]}` };
  const content = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(path);
  if (content) {
    const [, repository, kind, reference = ''] = content;
    const separator = kind === 'manifests' && !reference.includes(':') ? ':' : '@';
    const name = `${host}/${repository}${separator}${reference}`;
    if (kind === 'manifests') return { kind: 'manifest', name };
    return { kind: kind === 'blobs' ? 'blob' : 'referrers', name };
  }
  const tags = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (tags) return { kind: 'repository', name: `${host}/${tags[1]}` };
  if (path === '/v2/_catalog') return { kind: 'catalog', name: host };
  return { kind: 'registry', name: host };
}

/** `host/name` of any repository-scoped URL, for NAME_UNKNOWN. */
function repositoryOf(url: URL): string {
  const match = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(url.pathname);
  return match ? `${url.host}/${match[1]}` : url.host;
}

/** Registry-supplied text on one short line: no control characters to reach a terminal. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

const notFoundCodes: Record<string, SubjectKind> = {
  MANIFEST_UNKNOWN: 'manifest',
  BLOB_UNKNOWN: 'blob',
  NAME_UNKNOWN: 'repository',
  REFERRER_UNKNOWN: 'referrers',
};
const deniedCodes = new Set(['DENIED', 'UNAUTHORIZED']);

/**
 * The typed error for a registry's failure answer, with the fix where there is one: 404 and the
 * *_UNKNOWN codes are NotFoundError (exit 4), 401/403 and DENIED are AuthError (exit 3).
 * `errors` is undefined when the body was not the spec's JSON.
 */
export function classifyFailure(
  operation: string,
  request: Pick<HttpRequest, 'method' | 'url'>,
  status: number,
  errors: RegistryErrorDetail[] | undefined,
): TugError {
  const url = redactUrl(request.url);
  const where = `HTTP ${status} from ${request.url.host} (${request.method} ${url.slice(request.url.origin.length)})`;
  const first = errors?.[0];
  const said = first ? `${first.code}${first.message ? `: ${oneLine(first.message)}` : ''}` : undefined;
  const codes = new Set(errors?.map((error) => error.code));
  const subject = subjectOf(request.url);
  const failure = (message: string, hint?: string, code?: ErrorCode, option?: string) =>
    new RegistryError(message, request.method, url, status, errors ?? [], hint, code, option);

  if (codes.has('BLOB_UPLOAD_UNKNOWN') || (status === 404 && subject.kind === 'upload')) {
    return failure(
      `${operation}: the upload session is gone (${said ?? where})`,
      'the upload session expired; push again',
      'CONFLICT',
    );
  }
  const unknown = errors?.find((error) => error.code in notFoundCodes);
  if (unknown || status === 404) {
    if (unknown?.code === 'NAME_UNKNOWN')
      return new NotFoundError(`repository not found: ${repositoryOf(request.url)}`);
    const kind = unknown ? notFoundCodes[unknown.code] : subject.kind;
    return new NotFoundError(`${kind ?? subject.kind} not found: ${subject.name}`);
  }
  if (status === 401 || status === 403 || [...codes].some((code) => deniedCodes.has(code))) {
    return new AuthError(`${operation}: access denied${said ? ` (${said})` : ''}`, {
      code: status === 401 || codes.has('UNAUTHORIZED') ? 'UNAUTHORIZED' : 'DENIED',
      hint: `tug login ${request.url.host}`,
    });
  }
  if (status === 413) {
    const what = subject.kind === 'manifest' ? 'manifest' : 'blob';
    return failure(`${what} too large for the registry: ${subject.name} (${where})`, undefined, 'TOO_LARGE');
  }
  if (status === 405 || codes.has('UNSUPPORTED')) {
    return failure(
      `${operation}: not supported by ${request.url.host} (${said ?? where})`,
      request.method === 'DELETE'
        ? 'the registry has deletes disabled'
        : 'the registry does not offer this operation',
      'UNSUPPORTED',
    );
  }
  if (status === 429 || codes.has('TOOMANYREQUESTS')) {
    return failure(`${operation}: rate limited (${said ?? where})`, undefined, 'RATE_LIMITED');
  }
  if (status === 400 && !errors && request.url.protocol === 'http:') {
    // What an HTTPS server answers to plain HTTP (a HEAD gets no body that could say so).
    return failure(
      `${where}: the registry may speak HTTPS`,
      'connect over HTTPS instead of plain HTTP',
      'TLS',
      'noPlainHttp',
    );
  }
  return failure(said ? `${operation} failed: ${said}; ${where}` : where);
}

/** Reads a failure answer's body (capped; an oversized or broken body counts as not JSON) and classifies it. */
export async function errorFromResponse(
  operation: string,
  request: HttpRequest,
  response: HttpResponse,
): Promise<TugError> {
  const text = await readBodyText(response, MAX_SMALL_BODY).catch(() => '');
  return classifyFailure(operation, request, response.status, parseErrorBody(text));
}

/** A conditional write refused (HTTP 412): someone else changed the tag first. */
export class PreconditionFailedError extends TransportError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'CONFLICT', ...options });
  }
}
