import { MediaType } from '../oci/index.js';
import {
  type ImageConfigSummary,
  type ManifestSummary,
  summarizeImageConfig,
  summarizeManifest,
} from '../oci/summary.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget, SignalOptions } from '../targets/target.js';

/** What `inspect` shows: the manifest's summary, and its image config's when it is an image. */
export interface Inspection extends ManifestSummary {
  image?: ImageConfigSummary;
}

/** Image configs are read and summarised; an artifact's config is not read (image-spec, "Image Configuration"). */
const imageConfigTypes = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

/** Reads the manifest `descriptor` names and, for an image, its config. */
export async function inspectManifest(
  target: ReadTarget,
  descriptor: Descriptor,
  options: SignalOptions = {},
): Promise<Inspection> {
  const summary = summarizeManifest(descriptor, await target.fetchBytes(descriptor, options));
  const { config } = summary;
  if (!config || !imageConfigTypes.has(config.mediaType)) return summary;
  const image = summarizeImageConfig(await target.fetchBytes(config, options));
  return image ? { ...summary, image } : summary;
}
