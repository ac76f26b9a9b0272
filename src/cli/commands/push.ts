import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OptionValues } from 'commander';
import { chartTag, prepareHelmChart, sourceDateEpoch } from '../../artifacts/helm.js';
import {
  type AnnotationSet,
  parseAnnotationFile,
  parseFileSpec,
  prepareArtifact,
} from '../../artifacts/prepare.js';
import { copyGraph } from '../../copy/index.js';
import { UsageError } from '../../errors.js';
import type { Descriptor } from '../../oci/types.js';
import { destinationTag } from '../../ref/destination-tag.js';
import { formatReference } from '../../ref/index.js';
import type { Reference } from '../../ref/types.js';
import type { ReadTarget } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { checkDestinationDigest, refuseUnkeptDestinationParts } from '../destination.js';
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

/** Where `--helm` writes: REPO/NAME:VERSION, or DIR/NAME:VERSION for an `oci:` layout. */
function chartReference(base: Reference, name: string, version: string): Reference {
  const tag = chartTag(version);
  if (base.kind !== 'registry' && base.kind !== 'oci') {
    throw new UsageError('--helm pushes to a registry or an oci: layout');
  }
  if (base.digest) throw new UsageError('--helm pushes by tag: give the repository without a digest');
  if (
    base.kind === 'registry'
      ? base.tag !== undefined && base.tag !== 'latest' && base.tag !== tag
      : base.tag !== undefined && base.tag !== tag
  ) {
    throw new UsageError(`the chart's version is ${version}, not ${base.tag}`, {
      hint: `give the repository without a tag: the chart goes to NAME:${tag}`,
    });
  }
  return base.kind === 'registry'
    ? { kind: 'registry', registry: base.registry, repository: `${base.repository}/${name}`, tag }
    : { kind: 'oci', path: join(base.path, name), tag };
}

/** `--helm CHART.tgz REPO`: as `helm push`, to REPO/NAME:VERSION in Helm's own format. */
async function pushHelmChart(
  context: CliContext,
  input: string,
  chart: string,
  options: OptionValues,
): Promise<void> {
  if (options.artifactType)
    throw new UsageError("--helm writes Helm's own media types; drop --artifact-type");
  const prepared = await prepareHelmChart(chart, {
    created: sourceDateEpoch(context.io.env.SOURCE_DATE_EPOCH),
  });
  const ref = chartReference(parseTargetReference(input), prepared.metadata.name, prepared.metadata.version);
  const { descriptor, bytes } = prepared.manifest;
  await copyToDestination(context, ref, prepared.source, descriptor, bytes, options, formatReference(ref));
}

async function copyToDestination(
  context: CliContext,
  ref: Reference,
  source: ReadTarget,
  root: Descriptor,
  manifestBytes: Uint8Array,
  options: OptionValues,
  /** What to print on stdout instead of the digest (the reference `--helm` chose). */
  written?: string,
): Promise<void> {
  refuseUnkeptDestinationParts(ref);
  const destination = await openWriteTarget(context, ref);
  const tag = destinationTag(ref);
  const progress = new CopyProgress(context);
  await progress.start('pushing');
  const result = await copyGraph(source, destination, root, {
    concurrency: context.options.concurrency,
    signal: context.signal,
    tags: tag ? [tag] : [],
    events: progress.events,
  });
  progress.finish(result, 'pushed');
  checkDestinationDigest(ref, result.root.digest);
  if (options.exportManifest) await writeFile(options.exportManifest as string, manifestBytes);
  if (context.output.options.json)
    context.output.json({ reference: formatReference(ref), ...resultJson(result) });
  else context.output.line(written ?? result.root.digest);
}

export async function run(
  context: CliContext,
  [input = '', ...files]: string[],
  options: OptionValues,
): Promise<void> {
  if (options.helm) {
    if (files.length > 0) throw new UsageError('--helm pushes one chart; give no other files');
    await pushHelmChart(context, input, options.helm as string, options);
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
    stdinName: options.stdinName as string,
  });
  try {
    const { descriptor, bytes } = prepared.manifest;
    await copyToDestination(context, ref, prepared.source, descriptor, bytes, options);
  } finally {
    await prepared.cleanup();
  }
}
