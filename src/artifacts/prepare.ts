import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { MediaType } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from './annotations.js';
import { type BuiltManifest, buildArtifactManifest } from './artifact-manifest.js';
import { describeFile, spoolToFile } from './file-blob.js';
import { FileSource } from './file-source.js';
import { packDirectory } from './pack.js';
import { confinedPath } from './safe-path.js';

/** `PATH[:MEDIATYPE]`, as oras writes it; `-` is standard input. */
export interface FileSpec {
  path: string;
  mediaType?: string;
  /** The name it is pulled under (`org.opencontainers.image.title`); default: `path` as given. */
  title?: string;
}

/** Annotations from oras's annotation file: `$manifest`, `$config`, and one entry per file title. */
export interface AnnotationSet {
  manifest?: Record<string, string>;
  config?: Record<string, string>;
  files?: Record<string, Record<string, string>>;
}

/** The files, config, annotations and subject of an artifact to build. */
export interface ArtifactInput {
  files: FileSpec[];
  artifactType?: string;
  config?: FileSpec;
  annotations?: AnnotationSet;
  subject?: Descriptor;
  /** Allow absolute titles (oras's --disable-path-validation). */
  allowAbsolutePaths?: boolean;
  stdin?: Readable;
  /** The title of the file read from stdin (`-`); `stdin` unless given. */
  stdinName?: string;
}

/** A built artifact ready to copy from `source`, and the cleanup of its temporary files. */
export interface PreparedArtifact {
  source: FileSource;
  manifest: BuiltManifest;
  /** Removes the temporary files a packed directory or stdin needed. */
  cleanup(): Promise<void>;
}

/** Splits `PATH:MEDIATYPE` at the last colon when what follows looks like a media type. */
export function parseFileSpec(spec: string): FileSpec {
  const colon = spec.lastIndexOf(':');
  if (colon > 0 && spec.slice(colon + 1).includes('/')) {
    return { path: spec.slice(0, colon), mediaType: spec.slice(colon + 1) };
  }
  return { path: spec };
}

/** Reads oras's annotation file format. */
export function parseAnnotationFile(text: string, file: string): AnnotationSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file} must hold a JSON object`);
  }
  const set: AnnotationSet = { files: {} };
  for (const [key, value] of Object.entries(parsed)) {
    if (
      typeof value !== 'object' ||
      value === null ||
      Object.values(value).some((v) => typeof v !== 'string')
    ) {
      throw new UsageError(`${file}: "${key}" must map annotation names to strings`);
    }
    const annotations = value as Record<string, string>;
    if (key === '$manifest') set.manifest = annotations;
    else if (key === '$config') set.config = annotations;
    else set.files = { ...set.files, [key]: annotations };
  }
  return set;
}

function titleOf(path: string, allowAbsolute: boolean): string {
  const trimmed = path.replace(/\/+$/, '');
  if (allowAbsolute) return trimmed;
  try {
    return confinedPath(trimmed);
  } catch (error) {
    throw new UsageError(`${path} cannot be a title: ${(error as Error).message}`, {
      hint: 'push files by relative paths from their directory, or allow absolute paths',
      option: 'allowAbsolutePaths',
    });
  }
}

/**
 * Describes every file (hashing it once), packs directories as tar+gzip, and builds the
 * manifest, ready to be copied from the returned source to any target.
 */
export async function prepareArtifact(input: ArtifactInput): Promise<PreparedArtifact> {
  const source = new FileSource();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    await Promise.all(cleanups.map((remove) => remove()));
  };
  try {
    const layers: Descriptor[] = [];
    const titles = new Set<string>();
    for (const spec of input.files) {
      const layer = await describeInput(spec, input, source, cleanups);
      const title = layer.annotations?.[Annotation.title];
      if (title) {
        if (titles.has(title)) throw new UsageError(`"${title}" is given twice`);
        titles.add(title);
        const extra = input.annotations?.files?.[title];
        if (extra) layer.annotations = { ...layer.annotations, ...extra };
      }
      layers.push(layer);
    }
    const unknown = Object.keys(input.annotations?.files ?? {}).filter((title) => !titles.has(title));
    if (unknown.length > 0) {
      throw new UsageError(
        `the annotation file names ${unknown.map((t) => `"${t}"`).join(', ')}, which is not pushed`,
        {
          hint: 'each key other than $manifest and $config must be the title of a pushed file',
        },
      );
    }
    const config = input.config ? await describeConfig(input.config, input, source, cleanups) : undefined;
    const manifest = buildArtifactManifest({
      artifactType: input.artifactType,
      config,
      configAnnotations: input.annotations?.config,
      layers,
      subject: input.subject,
      annotations: input.annotations?.manifest,
    });
    source.addBytes(manifest.descriptor, manifest.bytes, 'manifest');
    if (!config) {
      const empty = manifest.manifest.config;
      source.addBytes(empty, Buffer.from(empty.data ?? '', 'base64'));
    }
    if (manifest.manifest.layers.length === 1 && layers.length === 0) {
      const empty = manifest.manifest.layers[0]!;
      source.addBytes(empty, Buffer.from(empty.data ?? '', 'base64'));
    }
    return { source, manifest, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function describeInput(
  spec: FileSpec,
  input: ArtifactInput,
  source: FileSource,
  cleanups: Array<() => Promise<void>>,
): Promise<Descriptor> {
  const mediaType = spec.mediaType ?? MediaType.ociLayer;
  if (spec.path === '-') {
    if (!input.stdin) throw new UsageError('standard input is not available');
    const title = titleOf(input.stdinName ?? 'stdin', input.allowAbsolutePaths === true);
    const spooled = await spoolToFile(input.stdin, mediaType);
    cleanups.push(spooled.remove);
    spooled.descriptor.annotations = { [Annotation.title]: title };
    source.addFile(spooled.descriptor, spooled.path);
    return spooled.descriptor;
  }
  const stats = await stat(spec.path).catch(() => {
    throw new UsageError(`cannot read ${spec.path}: no such file or directory`);
  });
  const title = titleOf(spec.title ?? spec.path, input.allowAbsolutePaths === true);
  if (stats.isDirectory()) {
    const packed = await packDirectory(spec.path, title);
    cleanups.push(packed.remove);
    if (spec.mediaType) packed.descriptor.mediaType = spec.mediaType;
    source.addFile(packed.descriptor, packed.path);
    return packed.descriptor;
  }
  const descriptor = await describeFile(spec.path, mediaType);
  descriptor.annotations = { [Annotation.title]: title };
  source.addFile(descriptor, spec.path);
  return descriptor;
}

async function describeConfig(
  spec: FileSpec,
  input: ArtifactInput,
  source: FileSource,
  cleanups: Array<() => Promise<void>>,
): Promise<Descriptor> {
  const descriptor = await describeInput(
    { ...spec, mediaType: spec.mediaType ?? MediaType.ociConfig },
    input,
    source,
    cleanups,
  );
  // A config is not a file to pull: it carries no title.
  const { [Annotation.title]: _title, ...rest } = descriptor.annotations ?? {};
  const annotations = { ...rest, ...input.annotations?.config };
  if (Object.keys(annotations).length > 0) descriptor.annotations = annotations;
  else delete descriptor.annotations;
  return descriptor;
}
