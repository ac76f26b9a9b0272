import { Annotation } from '../../artifacts/annotations.js';
import { formatPlatform } from '../../oci/index.js';
import { summarizeManifest } from '../../oci/summary.js';
import type { Descriptor } from '../../oci/types.js';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../format.js';
import { resolveReference } from '../resolve.js';

function describeBlob(descriptor: Descriptor): string {
  const title = descriptor.annotations?.[Annotation.title];
  return [descriptor.digest, formatBytes(descriptor.size), descriptor.mediaType, title]
    .filter(Boolean)
    .join('  ');
}

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const { ref, target, root } = await resolveReference(context, input);
  const summary = summarizeManifest(root, await target.fetchBytes(root));
  const reference = formatReference(ref);
  if (context.output.options.json) {
    context.output.json({ reference, ...summary });
    return;
  }
  const line = (text: string) => context.output.line(text);
  const { colour } = context.output;
  line(`${colour.bold('Reference:')}   ${reference}`);
  line(`${colour.bold('Digest:')}      ${summary.digest}`);
  line(`${colour.bold('Media type:')}  ${summary.mediaType}`);
  line(`${colour.bold('Size:')}        ${formatBytes(summary.size)}`);
  if (summary.artifactType) line(`${colour.bold('Artifact:')}    ${summary.artifactType}`);
  if (summary.manifests) {
    line(colour.bold(`Manifests (${summary.manifests.length}):`));
    for (const entry of summary.manifests) {
      const platform = entry.platform ? formatPlatform(entry.platform) : (entry.artifactType ?? 'unknown');
      line(`  ${platform.padEnd(16)} ${entry.digest}  ${formatBytes(entry.size)}`);
    }
  }
  if (summary.config) line(`${colour.bold('Config:')}      ${describeBlob(summary.config)}`);
  if (summary.layers) {
    const total = summary.layers.reduce((sum, layer) => sum + layer.size, 0);
    line(colour.bold(`Layers (${summary.layers.length}, ${formatBytes(total)}):`));
    for (const layer of summary.layers) line(`  ${describeBlob(layer)}`);
  }
  if (summary.subject) line(`${colour.bold('Subject:')}     ${summary.subject.digest}`);
  const annotations = Object.entries(summary.annotations ?? {});
  if (annotations.length > 0) {
    line(colour.bold('Annotations:'));
    for (const [key, value] of annotations) line(`  ${key}: ${value}`);
  }
}
