import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
import { UsageError } from '../errors.js';
import { digestOf, MAX_MANIFEST_BYTES } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from './annotations.js';
import { type BuiltManifest, buildArtifactManifest } from './artifact-manifest.js';
import { describeFile } from './file-blob.js';
import { FileSource } from './file-source.js';
import { goJson, type HelmMetadata, parseChartYaml } from './helm-metadata.js';

/** Helm's own OCI media types for a chart's config and its packaged .tgz. */
export const HelmMediaType = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const;

export const versionAnnotation = 'org.opencontainers.image.version';

/** The manifest annotations `helm push` writes from a chart's metadata (image-spec keys). */
const HelmAnnotation = {
  description: 'org.opencontainers.image.description',
  url: 'org.opencontainers.image.url',
  source: 'org.opencontainers.image.source',
  authors: 'org.opencontainers.image.authors',
} as const;

export type ChartMetadata = HelmMetadata;

/** Reads `NAME/Chart.yaml` from a packaged chart (.tgz), capped like a manifest. */
export async function readChartMetadata(path: string): Promise<ChartMetadata> {
  let text: string | undefined;
  const extract = createExtract();
  const reading = (async () => {
    for await (const entry of extract) {
      if (
        text === undefined &&
        /^[^/]+\/Chart\.yaml$/.test(entry.header.name) &&
        entry.header.size <= MAX_MANIFEST_BYTES
      ) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        text = Buffer.concat(chunks).toString('utf8');
      } else {
        entry.resume();
      }
    }
  })();
  try {
    await Promise.all([pipeline(createReadStream(path), createGunzip(), extract), reading]);
  } catch (error) {
    throw new UsageError(`${path} is not a packaged Helm chart: ${(error as Error).message}`);
  }
  if (text === undefined)
    throw new UsageError(`${path} has no Chart.yaml: is it a chart packaged by helm package?`);
  return parseChartYaml(text, path);
}

/** Helm stores `+` of a SemVer build as `_` in the tag, since tags cannot hold `+`. */
export function chartTag(version: string): string {
  return version.replaceAll('+', '_');
}

export interface PreparedChart {
  source: FileSource;
  manifest: BuiltManifest;
  metadata: ChartMetadata;
}

/**
 * The annotations `helm push` puts on the manifest: from the metadata (empty values left out),
 * then the chart's own annotations, which may not replace the title or the version. Keys are
 * sorted, as Go writes a map.
 */
export function helmAnnotations(metadata: HelmMetadata, created?: string): Record<string, string> {
  const annotations: Record<string, string> = {};
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') annotations[key] = value;
  };
  add(HelmAnnotation.description, metadata.description);
  add(Annotation.title, metadata.name);
  add(versionAnnotation, metadata.version);
  add(HelmAnnotation.url, metadata.home);
  add(Annotation.created, created);
  add(HelmAnnotation.source, metadata.sources?.[0]);
  add(
    HelmAnnotation.authors,
    metadata.maintainers?.map((m) => `${m.name ?? ''}${m.email ? ` (${m.email})` : ''}`).join(', '),
  );
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    if (key !== Annotation.title && key !== versionAnnotation) annotations[key] = value;
  }
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `SOURCE_DATE_EPOCH` (seconds) as the RFC 3339 time Helm writes; without it there is no timestamp. */
export function sourceDateEpoch(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seconds)) {
    throw new UsageError(`SOURCE_DATE_EPOCH "${value}" is not a number of seconds`);
  }
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface HelmChartOptions {
  /** The `org.opencontainers.image.created` annotation; without it the same chart pushes the same digest. */
  created?: string;
}

/** A chart in Helm's OCI format: Helm's metadata JSON as the config, the .tgz as the one layer. */
export async function prepareHelmChart(path: string, options: HelmChartOptions = {}): Promise<PreparedChart> {
  const metadata = await readChartMetadata(path);
  const configBytes = Buffer.from(goJson(metadata), 'utf8');
  const config: Descriptor = {
    mediaType: HelmMediaType.config,
    digest: digestOf(configBytes),
    size: configBytes.byteLength,
  };
  const chart = await describeFile(path, HelmMediaType.chart);
  const annotations = helmAnnotations(metadata, options.created);
  const manifest = buildArtifactManifest({ config, layers: [chart], annotations });
  const source = new FileSource();
  source.addBytes(config, configBytes);
  source.addFile(chart, path);
  source.addBytes(manifest.descriptor, manifest.bytes, 'manifest');
  return { source, manifest, metadata };
}

/** The file name `helm pull` gives a chart: NAME-VERSION.tgz. */
export function chartFileName(manifestAnnotations: Record<string, string> | undefined): string | undefined {
  const name = manifestAnnotations?.[Annotation.title];
  const version = manifestAnnotations?.[versionAnnotation];
  return name && version ? `${name}-${version}.tgz` : undefined;
}

/** NAME-VERSION.tgz from a Helm config blob, for manifests pushed without title annotations. */
export function chartFileNameFromConfig(configBytes: Uint8Array): string | undefined {
  try {
    const { name, version } = JSON.parse(Buffer.from(configBytes).toString('utf8')) as Record<
      string,
      unknown
    >;
    return typeof name === 'string' && typeof version === 'string' && name && version
      ? chartFileName({ [Annotation.title]: name, [versionAnnotation]: version })
      : undefined;
  } catch {
    return undefined;
  }
}
