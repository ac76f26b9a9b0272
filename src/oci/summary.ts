import { isIndex, parseManifest } from './manifest.js';
import type { Descriptor, Platform } from './types.js';

export interface ManifestSummary {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** An index: one entry per manifest it lists. */
  manifests?: Array<{
    digest: string;
    mediaType: string;
    size: number;
    platform?: Platform;
    artifactType?: string;
  }>;
  /** An image or artifact manifest. */
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** What `inspect` shows, from a manifest's exact bytes (pure). */
export function summarizeManifest(descriptor: Descriptor, bytes: Uint8Array): ManifestSummary {
  const { mediaType, manifest } = parseManifest(bytes, descriptor.mediaType);
  const summary: ManifestSummary = {
    digest: descriptor.digest,
    mediaType,
    size: bytes.byteLength,
    artifactType: manifest.artifactType,
    subject: manifest.subject,
    annotations: manifest.annotations,
  };
  if (isIndex(manifest)) {
    summary.manifests = manifest.manifests.map(({ digest, mediaType, size, platform, artifactType }) => ({
      digest,
      mediaType,
      size,
      platform,
      artifactType,
    }));
  } else {
    summary.config = manifest.config;
    summary.layers = manifest.layers;
  }
  return summary;
}

/** The parts of an image config (the image-spec's config) a person looks for first. */
export interface ImageConfigSummary {
  created?: string;
  platform?: string;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  /** Only the count: values are often secrets. */
  envCount: number;
  labels: Record<string, string>;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A summary of an image config's bytes; undefined when they are not a JSON object (pure). */
export function summarizeImageConfig(bytes: Uint8Array): ImageConfigSummary | undefined {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const root = document as Record<string, unknown>;
  const config = (typeof root.config === 'object' && root.config !== null ? root.config : {}) as Record<
    string,
    unknown
  >;
  const os = nonEmptyString(root.os);
  const architecture = nonEmptyString(root.architecture);
  const variant = nonEmptyString(root.variant);
  const labels = Object.fromEntries(
    Object.entries(typeof config.Labels === 'object' && config.Labels !== null ? config.Labels : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  const summary: ImageConfigSummary = { envCount: stringList(config.Env)?.length ?? 0, labels };
  const created = nonEmptyString(root.created);
  if (created) summary.created = created;
  if (os && architecture) summary.platform = [os, architecture, variant].filter(Boolean).join('/');
  const entrypoint = stringList(config.Entrypoint);
  if (entrypoint) summary.entrypoint = entrypoint;
  const cmd = stringList(config.Cmd);
  if (cmd) summary.cmd = cmd;
  const workingDir = nonEmptyString(config.WorkingDir);
  if (workingDir) summary.workingDir = workingDir;
  const user = nonEmptyString(config.User);
  if (user) summary.user = user;
  return summary;
}
