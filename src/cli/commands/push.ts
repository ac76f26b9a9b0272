import { readFile, writeFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { type AnnotationSet, parseAnnotationFile, parseFileSpec, prepareArtifact } from '../../artifacts/prepare.js';
import { copyGraph } from '../../copy/index.js';
import { UsageError } from '../../errors.js';
import { parseReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { CopyProgress, resultJson } from '../progress.js';
import { openWriteTarget } from '../targets.js';

export function parseAnnotationFlags(values: string[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UsageError(`annotation "${value}" must be KEY=VALUE`);
    annotations[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return annotations;
}

export async function readAnnotations(options: OptionValues): Promise<AnnotationSet> {
  const fromFile = options.annotationFile
    ? parseAnnotationFile(await readFile(options.annotationFile as string, 'utf8'), options.annotationFile as string)
    : {};
  const manifest = { ...fromFile.manifest, ...parseAnnotationFlags(options.annotation as string[]) };
  return { ...fromFile, manifest };
}

export async function run(context: CliContext, [input = '', ...files]: string[], options: OptionValues): Promise<void> {
  const ref = parseReference(input);
  const prepared = await prepareArtifact({
    files: files.map(parseFileSpec),
    artifactType: options.artifactType as string | undefined,
    config: options.config ? parseFileSpec(options.config as string) : undefined,
    annotations: await readAnnotations(options),
    allowAbsolutePaths: options.disablePathValidation === true,
    stdin: context.io.stdin,
  });
  try {
    const destination = await openWriteTarget(context, ref);
    const tag = ref.kind === 'docker-archive' ? ref.imageName : ref.digest ? undefined : ref.tag;
    const progress = new CopyProgress(context);
    await progress.start('pushing');
    const result = await copyGraph(prepared.source, destination, prepared.manifest.descriptor, {
      concurrency: context.options.concurrency,
      tags: tag ? [tag] : [],
      events: progress.events,
    });
    progress.finish(result, 'pushed');
    if (options.exportManifest) await writeFile(options.exportManifest as string, prepared.manifest.bytes);
    if (context.output.options.json) context.output.json(resultJson(result));
    else context.output.line(result.root.digest);
  } finally {
    await prepared.cleanup();
  }
}
