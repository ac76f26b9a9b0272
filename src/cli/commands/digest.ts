import type { OptionValues } from 'commander';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { descriptor } = await resolveReference(context, input, singlePlatform(options.platform as string[]));
  context.output.line(descriptor.digest);
}
