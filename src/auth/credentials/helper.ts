import { TugError, type TugErrorOptions } from '../../errors.js';
import type { Credential } from '../types.js';

export const HELPER_TIMEOUT_MS = 10_000;
const MAX_OUTPUT = 1024 * 1024;
/** What docker-credential-helpers print (on stdout or stderr) when they hold nothing for a server. */
const notFound = /credentials not found/i;
/** docker's marker: the Secret is an identity token, not a password. */
const identityTokenUsername = '<token>';

/** A helper that cannot answer (missing, hung, broken); the lookup warns and moves on. */
export class CredentialHelperError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'CREDENTIAL_STORE', ...options });
  }
}

export interface HelperOptions {
  /** Environment of the helper, PATH included. */
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

interface HelperResult {
  code: number;
  /** Capped at 1 MiB; never shown in a message, as it may carry the secret. */
  stdout: string;
  stderr: string;
}

/** Runs `docker-credential-NAME ACTION` with `input` on stdin; killed (by its pid) after the timeout. */
export async function runHelper(
  name: string,
  action: string,
  input: string,
  options: HelperOptions,
): Promise<HelperResult> {
  const program = `docker-credential-${name}`;
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  // Loaded here, not at start-up: child_process pulls in a dozen modules most commands never use.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CredentialHelperError(`credential helper ${program} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => {
        if (output[stream].length < MAX_OUTPUT) output[stream] += chunk.toString('utf8');
      });
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = error.code === 'ENOENT' ? 'not found' : 'could not be started';
      reject(new CredentialHelperError(`credential helper ${program} ${why}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, ...output });
    });
    // A helper may exit without reading its input.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function saysNotFound(result: HelperResult): boolean {
  return notFound.test(result.stdout) || notFound.test(result.stderr);
}

/** The docker-credential-helpers `get`: undefined when the helper has nothing for this server. */
export async function helperGet(
  name: string,
  serverUrl: string,
  options: HelperOptions,
): Promise<Credential | undefined> {
  const result = await runHelper(name, 'get', serverUrl, options);
  if (result.code !== 0) {
    if (saysNotFound(result)) return undefined;
    throw new CredentialHelperError(
      `credential helper docker-credential-${name} failed for ${serverUrl} (exit code ${result.code})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new CredentialHelperError(
      `credential helper docker-credential-${name} answered something that is not JSON`,
    );
  }
  const { Username, Secret } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    Username?: unknown;
    Secret?: unknown;
  };
  if (typeof Secret !== 'string' || Secret === '') return undefined;
  if (Username === identityTokenUsername) return { identityToken: Secret };
  return { username: typeof Username === 'string' ? Username : '', password: Secret };
}

/** The docker-credential-helpers `store`: `{ServerURL, Username, Secret}` on stdin. */
export async function helperStore(
  name: string,
  serverUrl: string,
  credential: Credential,
  options: HelperOptions,
): Promise<void> {
  const payload = credential.identityToken
    ? { ServerURL: serverUrl, Username: identityTokenUsername, Secret: credential.identityToken }
    : { ServerURL: serverUrl, Username: credential.username ?? '', Secret: credential.password ?? '' };
  const { code } = await runHelper(name, 'store', JSON.stringify(payload), options);
  if (code !== 0) {
    throw new CredentialHelperError(
      `credential helper docker-credential-${name} could not store the credentials`,
    );
  }
}

/** The docker-credential-helpers `erase`: true when the helper removed something. */
export async function helperErase(name: string, serverUrl: string, options: HelperOptions): Promise<boolean> {
  const result = await runHelper(name, 'erase', serverUrl, options);
  if (result.code === 0) return true;
  if (saysNotFound(result)) return false;
  throw new CredentialHelperError(
    `credential helper docker-credential-${name} could not erase the credentials`,
  );
}
