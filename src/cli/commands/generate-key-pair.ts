import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { generateKeyPair } from '../../sign/keys.js';
import type { CliContext } from '../context.js';
import { keyPassword } from '../key-password.js';

/** Creates the file only if it does not exist, so an existing key is never overwritten. */
async function writeNew(path: string, content: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${path} already exists; not overwriting a key`, {
        hint: 'move it away or give --output-key-prefix',
      });
    }
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export async function run(context: CliContext, _args: string[], options: OptionValues): Promise<void> {
  const prefix = options.outputKeyPrefix as string;
  const password = await keyPassword(context, true);
  const pair = generateKeyPair(password);
  await writeNew(`${prefix}.key`, pair.privateKey, 0o600);
  await writeNew(`${prefix}.pub`, pair.publicKey, 0o644);
  context.output.info(`Private key written to ${prefix}.key`);
  context.output.info(`Public key written to ${prefix}.pub`);
}
