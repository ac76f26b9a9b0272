import { parseRegistryHost } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { printList } from '../list.js';

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const registry = await context.registry();
  await printList(context, registry.catalog(parseRegistryHost(input), { signal: context.signal }));
}
