import type { OptionValues } from 'commander';
import { Annotation } from '../../artifacts/annotations.js';
import { FileTarget, refuseOverlappingTitles } from '../../artifacts/file-target.js';
import { chartFileName, HelmMediaType } from '../../artifacts/helm.js';
import { copyGraph } from '../../copy/index.js';
import { TugError } from '../../errors.js';
import { isIndex, parseManifest } from '../../oci/index.js';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { CopyProgress } from '../progress.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { ref, target, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
  );
  const { manifest } = parseManifest(
    await target.fetchBytes(descriptor, { signal: context.signal }),
    descriptor.mediaType,
  );
  const reference = formatReference(ref);
  if (isIndex(manifest)) {
    throw new TugError(`${reference} is an index`, {
      hint: 'pick one manifest with --platform, or copy it all with tug cp',
    });
  }
  const names = new Map<string, string>();
  const chartName =
    manifest.config.mediaType === HelmMediaType.config ? chartFileName(manifest.annotations) : undefined;
  const chart = manifest.layers.find((layer) => layer.mediaType === HelmMediaType.chart);
  if (chartName && chart) names.set(chart.digest, chartName);
  if (names.size === 0 && !manifest.layers.some((layer) => layer.annotations?.[Annotation.title])) {
    throw new TugError(`${reference} is a container image, not an artifact of named files`, {
      hint: `copy it with: tug cp ${reference} oci:DIR  (or docker-archive:FILE.tar)`,
    });
  }
  refuseOverlappingTitles(
    manifest.layers.flatMap(
      (layer) => layer.annotations?.[Annotation.title] ?? names.get(layer.digest) ?? [],
    ),
  );
  const files = new FileTarget(options.output as string, {
    keepOldFiles: options.keepOldFiles === true,
    allowPathTraversal: options.allowPathTraversal === true,
    warn: (message) => context.output.warn(message),
    names,
    layers: manifest.layers,
    limits: {
      ...(options.maxUnpackSize ? { maxBytes: options.maxUnpackSize as number } : {}),
      ...(options.maxUnpackRatio ? { maxRatio: options.maxUnpackRatio as number } : {}),
    },
  });
  const progress = new CopyProgress(context);
  await progress.start('pulling');
  const result = await copyGraph(target, files, descriptor, {
    concurrency: context.options.concurrency,
    signal: context.signal,
    events: progress.events,
  });
  progress.finish(result, 'pulled');
  if (context.output.options.json) {
    context.output.json({
      digest: descriptor.digest,
      files: files.pulled.map(({ path, descriptor }) => ({ path, ...descriptor })),
    });
    return;
  }
  for (const file of files.pulled) context.output.line(file.path);
}
