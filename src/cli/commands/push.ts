import { readFile, writeFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { chartTag, prepareHelmChart } from '../../artifacts/helm.js';
import {
  type AnnotationSet,
  parseAnnotationFile,
  parseFileSpec,
  prepareArtifact,
} from '../../artifacts/prepare.js';
import { copyGraph } from '../../copy/index.js';
import { UsageError } from '../../errors.js';
import type { Descriptor } from '../../oci/types.js';
import { formatReference } from '../../ref/index.js';
import type { Reference } from '../../ref/types.js';
import type { ReadTarget } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { CopyProgress, resultJson } from '../progress.js';
import { parseTargetReference } from '../reference.js';
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
    ? parseAnnotationFile(
        await readFile(options.annotationFile as string, 'utf8'),
        options.annotationFile as string,
      )
    : {};
  const manifest = { ...fromFile.manifest, ...parseAnnotationFlags(options.annotation as string[]) };
  return { ...fromFile, manifest };
}

/** `--helm CHART.tgz REPO`: as `helm push`, to REPO/NAME:VERSION in Helm's own format. */
async function pushHelmChart(context: CliContext, input: string, chart: string): Promise<void> {
  const prepared = await prepareHelmChart(chart);
  const base = parseTargetReference(input);
  if (base.kind !== 'registry') throw new UsageError('--helm pushes to a registry');
  const ref = {
    ...base,
    repository: `${base.repository}/${prepared.metadata.name}`,
    tag: chartTag(prepared.metadata.version),
  };
  delete ref.digest;
  await copyToDestination(
    context,
    ref,
    prepared.source,
    prepared.manifest.descriptor,
    prepared.manifest.bytes,
    {},
  );
}

async function copyToDestination(
  context: CliContext,
  ref: Reference,
  source: ReadTarget,
  root: Descriptor,
  manifestBytes: Uint8Array,
  options: OptionValues,
): Promise<void> {
  const destination = await openWriteTarget(context, ref);
  const tag = ref.kind === 'docker-archive' ? ref.imageName : ref.digest ? undefined : ref.tag;
  const progress = new CopyProgress(context);
  await progress.start('pushing');
  const result = await copyGraph(source, destination, root, {
    concurrency: context.options.concurrency,
    signal: context.signal,
    tags: tag ? [tag] : [],
    events: progress.events,
  });
  progress.finish(result, 'pushed');
  if (options.exportManifest) await writeFile(options.exportManifest as string, manifestBytes);
  if (context.output.options.json)
    context.output.json({ reference: formatReference(ref), ...resultJson(result) });
  else context.output.line(result.root.digest);
}

export async function run(
  context: CliContext,
  [input = '', ...files]: string[],
  options: OptionValues,
): Promise<void> {
  if (options.helm) {
    if (files.length > 0) throw new UsageError('--helm pushes one chart; give no other files');
    await pushHelmChart(context, input, options.helm as string);
    return;
  }
  if (files.length === 0) throw new UsageError('push needs at least one file (or --helm CHART.tgz)');
  const ref = parseTargetReference(input);
  const prepared = await prepareArtifact({
    files: files.map(parseFileSpec),
    artifactType: options.artifactType as string | undefined,
    config: options.config ? parseFileSpec(options.config as string) : undefined,
    annotations: await readAnnotations(options),
    allowAbsolutePaths: options.disablePathValidation === true,
    stdin: context.io.stdin,
  });
  try {
    const { descriptor, bytes } = prepared.manifest;
    await copyToDestination(context, ref, prepared.source, descriptor, bytes, options);
  } finally {
    await prepared.cleanup();
  }
}
