import { spawn } from 'node:child_process';
import { TugError } from '../../errors.js';
import type { Credential } from '../types.js';

export const HELPER_TIMEOUT_MS = 10_000;
const MAX_OUTPUT = 1024 * 1024;

/** A helper that cannot answer (missing, hung, broken); the lookup warns and moves on. */
export class CredentialHelperError extends TugError {}

interface HelperResult {
  code: number;
  stdout: string;
}

/** Runs `docker-credential-NAME ACTION` with `input` on stdin, killed after the timeout. */
export function runHelper(
  name: string,
  action: string,
  input: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = HELPER_TIMEOUT_MS,
): Promise<HelperResult> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new CredentialHelperError(`credential helper ${program} did not answer within ${timeoutMs / 1000} s`),
      );
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
    });
    child.stderr.resume();
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new CredentialHelperError(
          error.code === 'ENOENT'
            ? `credential helper ${program} not found`
            : `credential helper ${program} failed to start`,
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** The docker-credential-helpers `get`: undefined when the helper has nothing for this server. */
export async function helperGet(
  name: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
): Promise<Credential | undefined> {
  const { code, stdout } = await runHelper(name, 'get', serverUrl, env, timeoutMs);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new CredentialHelperError(`credential helper docker-credential-${name} failed for ${serverUrl}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new CredentialHelperError(
      `credential helper docker-credential-${name} answered something that is not JSON`,
    );
  }
  if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: typeof parsed.Username === 'string' ? parsed.Username : '', password: parsed.Secret };
}

export async function helperStore(
  name: string,
  serverUrl: string,
  credential: Credential,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const payload = credential.identityToken
    ? { ServerURL: serverUrl, Username: '<token>', Secret: credential.identityToken }
    : { ServerURL: serverUrl, Username: credential.username ?? '', Secret: credential.password ?? '' };
  const { code } = await runHelper(name, 'store', JSON.stringify(payload), env);
  if (code !== 0)
    throw new CredentialHelperError(
      `credential helper docker-credential-${name} could not store the credentials`,
    );
}

export async function helperErase(name: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { code } = await runHelper(name, 'erase', serverUrl, env);
  return code === 0;
}
