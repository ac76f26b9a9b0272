import type { OptionValues } from 'commander';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { ref, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
  );
  if (context.output.options.json) context.output.json({ reference: formatReference(ref), ...descriptor });
  else context.output.line(descriptor.digest);
}
