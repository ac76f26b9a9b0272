import type { CliContext } from './context.js';

/** Prints a listing one item per line, or as a JSON array with --json (collected only then). */
export async function printList(context: CliContext, items: AsyncIterable<string>): Promise<void> {
  if (context.output.options.json) {
    const all: string[] = [];
    for await (const item of items) all.push(item);
    context.output.json(all);
    return;
  }
  for await (const item of items) context.output.line(item);
}
