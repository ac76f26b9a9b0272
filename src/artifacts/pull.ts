import { CopyError, type CopyOptions, type CopyResult, copyGraph } from '../copy/index.js';
import { TugError } from '../errors.js';
import { isIndex, MediaType, parseManifest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget } from '../targets/target.js';
import { Annotation } from './annotations.js';
import {
  FileTarget,
  type FileTargetOptions,
  type PulledFile,
  refuseOverlappingTitles,
} from './file-target.js';
import { chartFileName, chartFileNameFromConfig, HelmMediaType } from './helm.js';
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
  // Older Helm wrote no title annotations: the config then names the chart.
  const chartName =
    manifest.config.mediaType === HelmMediaType.config
      ? (chartFileName(manifest.annotations) ??
        chartFileNameFromConfig(await source.fetchBytes(manifest.config, { signal: options.signal })))
      : undefined;
  const chart = manifest.layers.find((layer) => layer.mediaType === HelmMediaType.chart);
  if (chartName && chart) names.set(chart.digest, chartName);
  const untitled = manifest.layers.filter(
    (layer) =>
      !layer.annotations?.[Annotation.title] &&
      !names.has(layer.digest) &&
      layer.mediaType !== MediaType.ociEmpty,
  );
  const image =
    manifest.config.mediaType === MediaType.ociConfig || manifest.config.mediaType === MediaType.dockerConfig;
  if (untitled.length === manifest.layers.length && image) throw new NotAnArtifactError(reference);
  const skipped = untitled.map((layer) => `${layer.digest} (${layer.mediaType}, ${layer.size} B)`);
  if (untitled.length > 0 && untitled.length === manifest.layers.length) {
    throw new TugError(`${reference} has no titled layers to write as files; skipped ${skipped.join(', ')}`, {
      hint: 'fetch one with: tug blob get REPOSITORY@DIGEST -o FILE',
    });
  }
  refuseOverlappingTitles(
    manifest.layers.flatMap(
      (layer) => layer.annotations?.[Annotation.title] ?? names.get(layer.digest) ?? [],
    ),
  );
  for (const layer of skipped) options.warn?.(`skipped layer ${layer}: it has no title to name a file`);
  const { output, concurrency, signal, events, reference: _reference, ...fileOptions } = options;
  const files = new FileTarget(output, { ...fileOptions, names, layers: manifest.layers });
  const copy = await copyGraph(source, files, descriptor, { concurrency, signal, events }).catch(
    (error: unknown) => {
      // The destination is the user's directory: its own message ("refusing to overwrite big.jar")
      // says more than the copy step it happened in.
      throw error instanceof CopyError && error.side === 'destination' && error.cause instanceof TugError
        ? error.cause
        : error;
    },
  );
  return { files: files.pulled, copy };
}
