import { readFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { parseRepositoryName } from '../../ref/index.js';
import { loadPublicKey } from '../../sign/keys.js';
import { verifySignatures } from '../../sign/policy.js';
import { loadRekorKey } from '../../sign/rekor.js';
import type { CliContext } from '../context.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const key = loadPublicKey(await readFile(options.key as string, 'utf8'));
  const rekorFile = options.rekorKey as string | undefined;
  const rekorKey = rekorFile === undefined ? undefined : loadRekorKey(await readFile(rekorFile, 'utf8'));
  const named = options.identity as string | undefined;
  const identity = named === undefined ? undefined : parseRepositoryName(named);
  const { target, root } = await resolveReference(context, input);
  const verified = await verifySignatures(target, root, key, { signal: context.signal, rekorKey, identity });
  const log =
    rekorFile === undefined
      ? 'offline: no transparency log was checked'
      : `each with a transparency-log entry signed by ${rekorFile} (checked offline: no inclusion proof fetched)`;
  context.output.info(
    `Verification for ${root.digest}: ${verified.length} signature(s) verified with ${options.key as string}; ${log}`,
  );
  for (const signature of verified) {
    if (context.output.options.json) context.output.line(JSON.stringify(signature.payload));
    else context.output.json(signature.payload);
  }
}
