import type { CliContext } from '../context.js';
import { parseTargetReference } from '../reference.js';
import { openWriteTarget, targetReference } from '../targets.js';

export async function run(context: CliContext, [input = '', ...tags]: string[]): Promise<void> {
  const ref = parseTargetReference(input);
  const target = await openWriteTarget(context, ref);
  const signal = { signal: context.signal };
  const descriptor = await target.resolve(targetReference(ref), signal);
  for (const tag of tags) {
    await target.tag(descriptor, tag, signal);
    context.output.info(`tagged ${descriptor.digest} as ${tag}`);
  }
  if (context.output.options.json) context.output.json({ digest: descriptor.digest, tags });
  else context.output.line(descriptor.digest);
}
