import type { OptionValues } from 'commander';
import { InvalidContentError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

function parseJson(bytes: Uint8Array, digest: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidContentError(`manifest ${digest} is not JSON, so it cannot be indented`);
  }
}

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
  const bytes = await target.fetchBytes(descriptor, { signal: context.signal });
  if (options.pretty) context.output.json(parseJson(bytes, descriptor.digest));
  else context.output.bytes(bytes);
}
