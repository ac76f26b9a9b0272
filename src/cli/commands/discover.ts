import type { OptionValues } from 'commander';
import { type ReferrerNode, referrerTree } from '../../artifacts/referrers.js';
import { UsageError } from '../../errors.js';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

function printTree(context: CliContext, nodes: ReferrerNode[], indent: string): void {
  nodes.forEach((node, position) => {
    const last = position === nodes.length - 1;
    const { digest, artifactType } = node.descriptor;
    context.output.line(`${indent}${last ? '└── ' : '├── '}${artifactType ?? 'unknown'}  ${digest}`);
    printTree(context, node.referrers, `${indent}${last ? '    ' : '│   '}`);
  });
}

/** One row per referrer, the nested ones too, each with the subject it refers to. */
function tableRows(nodes: ReferrerNode[], subject: string): string[][] {
  return nodes.flatMap((node) => [
    [node.descriptor.digest, node.descriptor.artifactType ?? 'unknown', subject],
    ...tableRows(node.referrers, node.descriptor.digest),
  ]);
}

function printTable(context: CliContext, rows: string[][]): void {
  const all = [['DIGEST', 'ARTIFACT TYPE', 'SUBJECT'], ...rows];
  const widths = [0, 1].map((column) => Math.max(...all.map((row) => row[column]?.length ?? 0)));
  for (const row of all) {
    context.output.line(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

function toJson(nodes: ReferrerNode[]): unknown[] {
  return nodes.map(({ descriptor, referrers }) => ({ ...descriptor, referrers: toJson(referrers) }));
}

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const format = context.output.options.json ? 'json' : ((options.format as string | undefined) ?? 'tree');
  if (format !== 'tree' && format !== 'table' && format !== 'json')
    throw new UsageError(`--format must be tree, table or json, not ${format}`);
  const { ref, target, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
  );
  const tree = await referrerTree(target, descriptor, {
    artifactType: options.artifactType as string | undefined,
    depth: options.depth as number | undefined,
    maxNodes: options.maxNodes as number | undefined,
    signal: context.signal,
  });
  if (format === 'json') {
    context.output.json({ subject: descriptor, referrers: toJson(tree) });
    return;
  }
  if (format === 'table') {
    printTable(context, tableRows(tree, descriptor.digest));
    return;
  }
  context.output.line(`${formatReference(ref)}  ${descriptor.digest}`);
  printTree(context, tree, '');
}
