import type { OptionValues } from 'commander';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { target, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
  );
  if (options.descriptor) {
    context.output.json(descriptor);
    return;
  }
  context.output.bytes(await target.fetchBytes(descriptor));
}
