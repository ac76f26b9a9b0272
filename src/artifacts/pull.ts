import { type CopyOptions, type CopyResult, copyGraph } from '../copy/index.js';
import { TugError } from '../errors.js';
import { isIndex, parseManifest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget } from '../targets/target.js';
import { Annotation } from './annotations.js';
import {
  FileTarget,
  type FileTargetOptions,
  type PulledFile,
  refuseOverlappingTitles,
} from './file-target.js';
import { chartFileName, HelmMediaType } from './helm.js';
import { NotAnArtifactError } from './not-an-artifact.js';

/** What {@link pullFiles} is given besides the manifest to pull: where, and how to copy. */
export interface PullOptions
  extends Omit<FileTargetOptions, 'names' | 'layers'>,
    Pick<CopyOptions, 'concurrency' | 'signal' | 'events'> {
  /** The directory the files are written to. */
  output: string;
  /** How the manifest is named in errors (the reference the user gave). */
  reference?: string;
}

/** The files a pull wrote, and the copy's counts. */
export interface PullResult {
  files: PulledFile[];
  copy: CopyResult;
}

/**
 * Pulls an artifact of named files (as oras does): each layer titled with
 * `org.opencontainers.image.title`, or a Helm chart, becomes a file under `output`. An index or a
 * container image is refused: there is nothing to name the files by.
 */
export async function pullFiles(
  source: ReadTarget,
  descriptor: Descriptor,
  options: PullOptions,
): Promise<PullResult> {
  const reference = options.reference ?? descriptor.digest;
  const { manifest } = parseManifest(
    await source.fetchBytes(descriptor, { signal: options.signal }),
    descriptor.mediaType,
  );
  if (isIndex(manifest)) {
    throw new TugError(`${reference} is an index`, {
      hint: 'pick the manifest of one platform, or copy the whole index to an OCI layout',
      option: 'platform',
    });
  }
  const names = new Map<string, string>();
  const chartName =
    manifest.config.mediaType === HelmMediaType.config ? chartFileName(manifest.annotations) : undefined;
  const chart = manifest.layers.find((layer) => layer.mediaType === HelmMediaType.chart);
  if (chartName && chart) names.set(chart.digest, chartName);
  if (names.size === 0 && !manifest.layers.some((layer) => layer.annotations?.[Annotation.title])) {
    throw new NotAnArtifactError(reference);
  }
  refuseOverlappingTitles(
    manifest.layers.flatMap(
      (layer) => layer.annotations?.[Annotation.title] ?? names.get(layer.digest) ?? [],
    ),
  );
  const { output, concurrency, signal, events, reference: _reference, ...fileOptions } = options;
  const files = new FileTarget(output, { ...fileOptions, names, layers: manifest.layers });
  const copy = await copyGraph(source, files, descriptor, { concurrency, signal, events });
  return { files: files.pulled, copy };
}
