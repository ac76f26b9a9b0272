import { NotAnArtifactError } from '../artifacts/not-an-artifact.js';
import { type ErrorCode, findTugError, InterruptedError, type TugError, UsageError } from '../errors.js';

/** Exit codes of the CLI, as README.md lists them. */
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

const exitCodes: Partial<Record<ErrorCode, ExitCode>> = {
  USAGE: ExitCode.usage,
  UNAUTHORIZED: ExitCode.auth,
  DENIED: ExitCode.auth,
  NOT_FOUND: ExitCode.notFound,
  INTERRUPTED: ExitCode.interrupted,
};

/** The exit code of a failure: by the code of the outermost tug error; 1 for anything else. */
export function exitCodeFor(error: unknown): ExitCode {
  const found = findTugError(error);
  // 128 + the signal's number, as shells report a process ended by it.
  if (found instanceof InterruptedError && found.signal === 'SIGTERM') return ExitCode.terminated;
  return (found && exitCodes[found.code]) ?? ExitCode.failure;
}

/** What the CLI says instead of a library hint that names an option: the flag that sets it. */
const flagHints: Record<string, string> = {
  caFile:
    'pass --ca-file CA.pem, or put the CA in /etc/docker/certs.d/<registry>/ca.crt; --insecure skips verification',
  plainHttp: 'if the registry serves plain HTTP, pass --plain-http',
  timeout: 'a slow registry may need a longer --timeout',
  maxUnpackSize: 'raise it with --max-unpack-size if you trust this artifact',
  maxUnpackRatio: 'raise it with --max-unpack-ratio if you trust this artifact',
  allowPathTraversal:
    'the artifact names a path outside the output directory; pass --allow-path-traversal only if you trust it',
  allowAbsolutePaths: 'push files by relative paths from their directory, or pass --disable-path-validation',
  keepOldFiles: 'drop --keep-old-files to replace it',
  platforms: 'pick one with --platform; to keep every platform, copy to an OCI layout: oci:DIR',
  certFile: '--cert-file and --key-file go together',
  platform: 'pick one manifest with --platform, or copy it all with tug cp',
  noPlainHttp: 'the registry may speak HTTPS: drop --plain-http',
  noClobber: 'leave out --no-clobber to move the tag, or copy to another tag',
  maxNodes: 'if the graph really is this large, raise the limit with --max-nodes',
  verifyKey: 'sign it with `tug sign --key` (or cosign), or copy without --verify-key',
};

/** The hint to print for `error`: the flag or command that fixes it, else the library's own. */
export function hintFor(error: TugError): string | undefined {
  const image = findTugError(error);
  if (image instanceof NotAnArtifactError) {
    return `copy it with: tug cp ${image.reference} oci:DIR  (or docker-archive:FILE.tar)`;
  }
  return (error.option && flagHints[error.option]) ?? error.hint;
}

/**
 * Runs `work` on input the user gave (a file on the command line): content that breaks the OCI
 * rules there is bad usage (exit 2), not a failure of a server.
 */
export function asUserInput<T>(source: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const invalid = findTugError(error, 'INVALID_CONTENT');
    if (!invalid) throw error;
    throw new UsageError(`${source}: ${invalid.message}`, { cause: error, hint: invalid.hint });
  }
}
