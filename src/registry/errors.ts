import { AuthError, NotFoundError, TransportError, type TugError } from '../errors.js';
import { readBodyText } from '../transport/index.js';
import { redactUrl } from '../transport/redact.js';
import type { HttpRequest, HttpResponse } from '../transport/types.js';

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
  ) {
    super(message, { hint });
  }
}

const MAX_ERROR_BODY = 1024 * 1024;

async function parseErrors(response: HttpResponse): Promise<RegistryErrorDetail[] | undefined> {
  const text = await readBodyText(response, MAX_ERROR_BODY).catch(() => '');
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return undefined;
    return parsed.errors.flatMap((entry) =>
      typeof entry === 'object' && entry !== null && typeof (entry as RegistryErrorDetail).code === 'string'
        ? [entry as RegistryErrorDetail]
        : [],
    );
  } catch {
    return undefined;
  }
}

const notFoundCodes = new Set(['MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NAME_UNKNOWN', 'REFERRER_UNKNOWN']);
const deniedCodes = new Set(['DENIED', 'UNAUTHORIZED']);

/**
 * The typed error for a failed registry call, with the fix where there is one: 404 and the
 * *_UNKNOWN codes are NotFoundError (exit 4), 401/403 and DENIED are AuthError (exit 3).
 */
export async function errorFromResponse(
  operation: string,
  request: HttpRequest,
  response: HttpResponse,
): Promise<TugError> {
  const errors = (await parseErrors(response)) ?? [];
  const registry = request.url.host;
  const first = errors[0];
  const said = first
    ? `${first.code}${first.message ? `: ${first.message}` : ''}`
    : `HTTP ${response.status}`;
  if (response.status === 404 || (first && notFoundCodes.has(first.code))) {
    return new NotFoundError(`${operation}: not found (${said})`);
  }
  if (response.status === 401 || response.status === 403 || (first && deniedCodes.has(first.code))) {
    return new AuthError(`${operation}: access denied (${said})`, { hint: `run: tug login ${registry}` });
  }
  const hint =
    first?.code === 'BLOB_UPLOAD_UNKNOWN' || first?.code === 'BLOB_UNKNOWN'
      ? 'the upload was interrupted or expired; push again'
      : response.status === 413
        ? 'the registry refuses content this large'
        : first?.code === 'UNSUPPORTED' || response.status === 405
          ? 'the registry does not allow this operation (deletes are often disabled)'
          : undefined;
  const where = `${request.method} ${redactUrl(request.url)}`;
  return new RegistryError(
    `${operation} failed: ${said} from ${registry}`,
    request.method,
    where,
    response.status,
    errors,
    hint,
  );
}
