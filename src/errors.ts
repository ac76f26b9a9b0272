/**
 * The stable codes of tug's errors: a closed set a program can branch on. A code never changes
 * meaning between releases; a new kind of failure gets a new code.
 *
 * - `USAGE`: bad input from the caller (an invalid reference, platform, option value or input file).
 * - `NOT_FOUND`: a manifest, blob, repository, tag or file that is not there.
 * - `UNAUTHORIZED`: credentials missing or refused.
 * - `DENIED`: authenticated, but the account may not do this.
 * - `DIGEST_MISMATCH`: bytes that do not hash to the digest they were fetched by.
 * - `TOO_LARGE`: more bytes than a cap or a declared size allows.
 * - `INVALID_CONTENT`: content that breaks the OCI rules (a broken manifest, a malformed archive).
 * - `UNSAFE_PATH`: an artifact that names a path outside the output directory.
 * - `RATE_LIMITED`: the registry asks to slow down (HTTP 429).
 * - `NETWORK`: no HTTP answer: refused, reset, unresolved.
 * - `TLS`: the TLS handshake failed (an untrusted certificate, a server that speaks plain HTTP).
 * - `TIMEOUT`: no answer in time.
 * - `SERVER`: the registry failed the request (a 5xx, or an answer outside the protocol).
 * - `UNSUPPORTED`: the registry, the target or this version of tug does not offer the operation.
 * - `CONFLICT`: the state changed under the operation (a tag moved by another writer).
 * - `UNVERIFIED`: no signature of the content verifies with the key given.
 * - `CREDENTIAL_STORE`: a credential helper or keychain failed.
 * - `INTERRUPTED`: stopped by SIGINT or SIGTERM.
 * - `ABORTED`: stopped by the caller's `AbortSignal`.
 * - `INTERNAL`: anything else; a bug when it is seen.
 */
export const ErrorCodes = [
  'USAGE',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'DENIED',
  'DIGEST_MISMATCH',
  'TOO_LARGE',
  'INVALID_CONTENT',
  'UNSAFE_PATH',
  'RATE_LIMITED',
  'NETWORK',
  'TLS',
  'TIMEOUT',
  'SERVER',
  'UNSUPPORTED',
  'CONFLICT',
  'UNVERIFIED',
  'CREDENTIAL_STORE',
  'INTERRUPTED',
  'ABORTED',
  'INTERNAL',
] as const;

/** One of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[number];

/** What every tug error may be given besides its message. */
export interface TugErrorOptions {
  /** The fix, shown as a second line. It names no CLI flag: see `option`. */
  hint?: string;
  cause?: unknown;
  /** Overrides the class's code where one class covers several (a registry answer). */
  code?: ErrorCode;
  /** Overrides the code's default: whether the same call may succeed when tried again. */
  transient?: boolean;
  /**
   * The name of the library option that changes this outcome (`caFile`, `plainHttp`, `timeout`,
   * `maxUnpackSize`…), so a front end can name its own flag for it.
   */
  option?: string;
}

const transientCodes: ReadonlySet<ErrorCode> = new Set(['RATE_LIMITED', 'NETWORK', 'TIMEOUT', 'CONFLICT']);

/**
 * Base of every error tug throws on purpose. `message` is one line for a person; `hint` says what
 * to do; `code` is stable for programs; `transient` says whether trying again may help.
 */
export class TugError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly hint: string | undefined;
  readonly option: string | undefined;

  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'INTERNAL';
    this.transient = options.transient ?? transientCodes.has(this.code);
    this.hint = options.hint;
    this.option = options.option;
  }
}

/**
 * Whether `error` is a tug error, or wraps one in its `cause` chain; with `code`, one of that code.
 * The outermost match wins, so a copy that failed on a missing blob is `NOT_FOUND`.
 */
export function isTugError(error: unknown, code?: ErrorCode): error is TugError {
  return findTugError(error, code) !== undefined;
}

/** The first tug error in the `cause` chain of `error` (itself included), of `code` when given. */
export function findTugError(error: unknown, code?: ErrorCode): TugError | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof TugError && (code === undefined || current.code === code)) return current;
  }
  return undefined;
}

/** Bad usage or bad input from the caller: invalid option, reference, platform or input file. */
export class UsageError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'USAGE', ...options });
  }
}

/** A reference string that does not follow the grammar. */
export class InvalidReferenceError extends UsageError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid reference "${input}": ${reason}`);
  }
}

/**
 * Content that breaks the OCI rules: a malformed digest, manifest, descriptor or archive. Whether
 * it came from a server or from the caller's own file is for the caller to say: the CLI treats a
 * file given on its command line as bad usage, and a registry's answer as a failure.
 */
export class InvalidContentError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'INVALID_CONTENT', ...options });
  }
}

/** Credentials refused or missing (`UNAUTHORIZED`), or access denied (`DENIED`). */
export class AuthError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'UNAUTHORIZED', ...options });
  }
}

/** Manifest, blob, repository, tag or file not found. */
export class NotFoundError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'NOT_FOUND', ...options });
  }
}

/** Bytes that do not match the digest (or size) they were fetched by. */
export class DigestMismatchError extends TugError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    options: TugErrorOptions = {},
  ) {
    super(`digest mismatch: expected ${expected}, got ${actual}`, { code: 'DIGEST_MISMATCH', ...options });
  }
}

/** More bytes than allowed (a manifest over the cap, a blob over its declared size). */
export class SizeLimitError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'TOO_LARGE', ...options });
  }
}

/** A network, TLS, proxy or protocol failure talking to a server. */
export class TransportError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'SERVER', ...options });
  }
}

/** Stopped by SIGINT or SIGTERM after cleaning up; `signal` says which. */
export class InterruptedError extends TugError {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}; nothing partial was left under a final name`, { code: 'INTERRUPTED' });
  }
}

/** Stopped by the caller's `AbortSignal`; its reason is the `cause`. */
export class AbortedError extends TugError {
  constructor(operation: string, reason: unknown) {
    const why = reason instanceof Error && reason.name === 'TimeoutError' ? ': the signal timed out' : '';
    super(`${operation} was aborted${why}`, { code: 'ABORTED', cause: reason });
  }
}

/** A tag that exists with another digest, which the caller asked not to move (no-clobber). */
export class TagConflictError extends TugError {
  constructor(
    readonly tag: string,
    readonly existing: string,
    readonly wanted: string,
  ) {
    super(`tag ${tag} exists with digest ${existing}; not moving it to ${wanted}`, {
      code: 'CONFLICT',
      transient: false,
      hint: 'allow tags to move, or copy to another tag',
      option: 'noClobber',
    });
  }
}
