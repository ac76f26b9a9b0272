import { readFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { signedIdentity } from '../../sign/identity.js';
import { loadPrivateKey } from '../../sign/keys.js';
import { parseClaims } from '../../sign/payload.js';
import { classicWriter, type SignatureWriter, type SignOptions, signImage } from '../../sign/sign.js';
import type { WriteTarget } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { keyPassword } from '../key-password.js';
import { parseTargetReference } from '../reference.js';
import { openWriteTarget, targetReference } from '../targets.js';

async function writerFor(
  format: string,
  target: WriteTarget,
  options: SignOptions,
): Promise<SignatureWriter> {
  if (format === 'classic') return classicWriter(target, options);
  if (format === 'bundle') return (await import('../../sign/bundle.js')).bundleWriter(target, options);
  throw new UsageError(`unknown --format "${format}": classic or bundle`);
}

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const ref = parseTargetReference(input);
  const identity = signedIdentity(ref);
  const claims = parseClaims(options.annotation as string[]);
  const key = await loadPrivateKey(await readFile(options.key as string, 'utf8'), () =>
    keyPassword(context, false),
  );
  const target = await openWriteTarget(context, ref);
  const root = await target.resolve(targetReference(ref), { signal: context.signal });
  const signOptions: SignOptions = { key, repository: identity, claims };
  const write = await writerFor(options.format as string, target, signOptions);
  const signed = await signImage(target, root, write, {
    recursive: options.recursive === true,
    signal: context.signal,
  });
  for (const { subject, signature } of signed) {
    context.output.info(`signed ${subject.digest} (signature in ${signature.digest})`);
    context.output.line(subject.digest);
  }
}
