import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import type { CliContext } from './context.js';
import { prompt } from './prompt.js';

/**
 * The password of a cosign key: COSIGN_PASSWORD when set (even empty, as cosign reads it), else
 * asked on the terminal; with neither, a usage error rather than a hang on a closed stdin.
 */
export async function keyPassword(context: CliContext, confirm: boolean): Promise<string> {
  const fromEnv = context.io.env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  if ((context.io.stdin as Readable & { isTTY?: boolean }).isTTY !== true) {
    throw new UsageError('the key password is needed and there is no terminal to ask on', {
      hint: 'set COSIGN_PASSWORD',
    });
  }
  const password = await prompt(context.io, 'Enter password for private key: ', true);
  if (confirm && (await prompt(context.io, 'Enter password for private key again: ', true)) !== password) {
    throw new UsageError('the two passwords differ');
  }
  return password;
}
