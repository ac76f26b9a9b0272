/** Exit codes of the CLI, as PRODUCT.md defines them. */
export const ExitCode = {
  success: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface TugErrorOptions {
  /** The fix, shown as a second line. */
  hint?: string;
  cause?: unknown;
}

/**
 * Base of every error tug throws on purpose. `message` is one line for a user; `hint` says what
 * to do. The CLI prints both and exits with `exitCode`; it never prints a stack unless verbose.
 */
export class TugError extends Error {
  readonly exitCode: ExitCode = ExitCode.failure;
  readonly hint: string | undefined;

  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad usage or bad input: unknown flag, invalid reference, malformed file. Exit 2. */
export class UsageError extends TugError {
  override readonly exitCode = ExitCode.usage;
}

/** A reference string that does not follow the grammar. Exit 2. */
export class InvalidReferenceError extends UsageError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid reference "${input}": ${reason}`);
  }
}

/** Content that breaks the OCI rules: a malformed digest, manifest or descriptor. Exit 2. */
export class InvalidContentError extends UsageError {}

/** Credentials refused, or access denied. Exit 3. */
export class AuthError extends TugError {
  override readonly exitCode = ExitCode.auth;
}

/** Manifest, blob, repository or tag not found. Exit 4. */
export class NotFoundError extends TugError {
  override readonly exitCode = ExitCode.notFound;
}

/** Bytes that do not match the digest (or size) they were fetched by. Exit 1. */
export class DigestMismatchError extends TugError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    options: TugErrorOptions = {},
  ) {
    super(`digest mismatch: expected ${expected}, got ${actual}`, options);
  }
}

/** More bytes than allowed (a manifest over the cap, a blob over its declared size). Exit 1. */
export class SizeLimitError extends TugError {}

/** A network, TLS, proxy or protocol failure talking to a server. Exit 1. */
export class TransportError extends TugError {}

/** Stopped by SIGINT or SIGTERM after cleaning up. Exit 130 or 143 (128 + the signal), as shells report them. */
export class InterruptedError extends TugError {
  override readonly exitCode: ExitCode;

  constructor(signal: string) {
    super(`interrupted by ${signal}; nothing partial was left under a final name`);
    this.exitCode = signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
  }
}
