import { InvalidContentError } from '../../errors.js';

/** One image of a `docker save` archive: an entry of its `manifest.json`. */
export interface ArchiveImageEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** `manifest.json` is a handful of paths per image; more than this is not a docker archive. */
export const MAX_ARCHIVE_MANIFEST_BYTES = 4 * 1024 * 1024;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Parses and checks the shape of `manifest.json`; the paths in it are checked where they are used. */
export function parseArchiveManifest(bytes: Uint8Array, archive: string): ArchiveImageEntry[] {
  const invalid = (why: string) => new InvalidContentError(`docker-archive ${archive}: manifest.json ${why}`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('is not valid JSON');
  }
  if (!Array.isArray(document)) throw invalid('is not a list of images');
  if (document.length === 0) throw invalid('lists no image');
  return document.map((item: unknown, position) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof entry.Config !== 'string') throw invalid(`image ${position + 1} has no Config path`);
    if (!isStringArray(entry.Layers)) throw invalid(`image ${position + 1} has no list of Layers`);
    const tags = entry.RepoTags ?? [];
    if (!isStringArray(tags)) throw invalid(`image ${position + 1} has RepoTags that are not strings`);
    return { Config: entry.Config, RepoTags: tags, Layers: entry.Layers };
  });
}
