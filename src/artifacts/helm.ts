import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';
import { digestOf, MAX_MANIFEST_BYTES } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from './annotations.js';
import { type BuiltManifest, buildArtifactManifest } from './artifact-manifest.js';
import { describeFile } from './file-blob.js';
import { FileSource } from './file-source.js';

/** Helm's own OCI media types (helm.sh/docs/topics/registries). */
export const HelmMediaType = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const;

export const versionAnnotation = 'org.opencontainers.image.version';
const descriptionAnnotation = 'org.opencontainers.image.description';

export interface ChartMetadata {
  name: string;
  version: string;
  description?: string;
  [field: string]: unknown;
}

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
  const metadata = parseYaml(text) as Partial<ChartMetadata> | null;
  if (!metadata || typeof metadata.name !== 'string' || typeof metadata.version !== 'string') {
    throw new UsageError(`${path}: Chart.yaml needs a name and a version`);
  }
  return metadata as ChartMetadata;
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

/** A chart in Helm's OCI format: Chart.yaml as the JSON config, the .tgz as the one layer. */
export async function prepareHelmChart(path: string): Promise<PreparedChart> {
  const metadata = await readChartMetadata(path);
  const configBytes = Buffer.from(JSON.stringify(metadata), 'utf8');
  const config: Descriptor = {
    mediaType: HelmMediaType.config,
    digest: digestOf(configBytes),
    size: configBytes.byteLength,
  };
  const chart = await describeFile(path, HelmMediaType.chart);
  const annotations: Record<string, string> = {
    [Annotation.title]: metadata.name,
    [versionAnnotation]: metadata.version,
  };
  if (typeof metadata.description === 'string') annotations[descriptionAnnotation] = metadata.description;
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
