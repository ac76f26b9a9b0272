import type { OptionValues } from 'commander';
import { Annotation } from '../../artifacts/annotations.js';
import { inspectManifest } from '../../artifacts/inspect.js';
import { formatPlatform } from '../../oci/index.js';
import type { ImageConfigSummary } from '../../oci/summary.js';
import type { Descriptor } from '../../oci/types.js';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../format.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

function describeBlob(descriptor: Descriptor): string {
  const title = descriptor.annotations?.[Annotation.title];
  return [descriptor.digest, formatBytes(descriptor.size), descriptor.mediaType, title]
    .filter(Boolean)
    .join('  ');
}

function printImageConfig(context: CliContext, image: ImageConfigSummary): void {
  const line = (text: string) => context.output.line(text);
  context.output.labelled('Image config:');
  if (image.created) line(`  Created:     ${image.created}`);
  if (image.platform) line(`  Platform:    ${image.platform}`);
  if (image.entrypoint) line(`  Entrypoint:  ${JSON.stringify(image.entrypoint)}`);
  if (image.cmd) line(`  Cmd:         ${JSON.stringify(image.cmd)}`);
  if (image.workingDir) line(`  WorkingDir:  ${image.workingDir}`);
  if (image.user) line(`  User:        ${image.user}`);
  line(`  Env:         ${image.envCount} variable${image.envCount === 1 ? '' : 's'}`);
  const labels = Object.entries(image.labels);
  if (labels.length > 0) {
    line(`  Labels (${labels.length}):`);
    for (const [key, value] of labels) line(`    ${key}: ${value}`);
  }
}

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { ref, target, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
    { readsManifest: true },
  );
  const summary = await inspectManifest(target, descriptor, { signal: context.signal });
  const { image } = summary;
  const reference = formatReference(ref);
  if (context.output.options.json) {
    context.output.json({ reference, ...summary });
    return;
  }
  const line = (text: string) => context.output.line(text);
  const labelled = (label: string, value?: string) => context.output.labelled(label, value);
  labelled('Reference:   ', reference);
  labelled('Digest:      ', summary.digest);
  labelled('Media type:  ', summary.mediaType);
  labelled('Size:        ', formatBytes(summary.size));
  if (summary.artifactType) labelled('Artifact:    ', summary.artifactType);
  if (summary.manifests) {
    labelled(`Manifests (${summary.manifests.length}):`);
    for (const entry of summary.manifests) {
      const platform = entry.platform ? formatPlatform(entry.platform) : (entry.artifactType ?? 'unknown');
      line(`  ${platform.padEnd(16)} ${entry.digest}  ${formatBytes(entry.size)}`);
    }
  }
  if (summary.config) labelled('Config:      ', describeBlob(summary.config));
  if (image) printImageConfig(context, image);
  if (summary.layers?.length === 0) labelled('Layers:      ', 'none (this manifest has no layers)');
  else if (summary.layers) {
    const total = summary.layers.reduce((sum, layer) => sum + layer.size, 0);
    labelled(`Layers (${summary.layers.length}, ${formatBytes(total)}):`);
    for (const layer of summary.layers) line(`  ${describeBlob(layer)}`);
  }
  if (summary.subject) labelled('Subject:     ', summary.subject.digest);
  const annotations = Object.entries(summary.annotations ?? {});
  if (annotations.length > 0) {
    labelled('Annotations:');
    for (const [key, value] of annotations) line(`  ${key}: ${value}`);
  }
}
