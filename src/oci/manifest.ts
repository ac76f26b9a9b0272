import { InvalidContentError } from '../errors.js';
import { validateDescriptor } from './digest.js';
import { isIndexMediaType, MediaType } from './media-types.js';
import type { Descriptor, ImageIndex, Manifest } from './types.js';

/** A manifest or index, parsed and checked, with the media type it is known by. */
export interface ParsedManifest {
  mediaType: string;
  manifest: Manifest;
}

/** Whether a parsed document is an index (a list of manifests) rather than one manifest. */
export function isIndex(manifest: Manifest): manifest is ImageIndex {
  return 'manifests' in manifest;
}

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidContentError('manifest is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidContentError('manifest is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Validates one descriptor of a manifest, naming where it sits when it is wrong. */
function validateAt(where: string, value: unknown): void {
  try {
    validateDescriptor(value);
  } catch (error) {
    if (!(error instanceof InvalidContentError)) throw error;
    throw new InvalidContentError(`manifest ${where}: ${error.message}`);
  }
}

/** The media type without parameters (`; charset=utf-8`), or undefined for a generic JSON type. */
function specificMediaType(header: string | undefined): string | undefined {
  const bare = header?.split(';')[0]?.trim();
  return bare && bare !== 'application/json' && bare !== 'application/octet-stream' ? bare : undefined;
}

/**
 * Parses and validates an image manifest or index from its exact bytes. The media type comes
 * from the document or the Content-Type; when both are there they must agree.
 */
export function parseManifest(bytes: Uint8Array, mediaTypeHeader?: string): ParsedManifest {
  const document = parseJson(bytes);
  if (document.schemaVersion === 1) {
    throw new InvalidContentError('Docker schema 1 manifests are not supported', {
      hint: 'schema 1 is deprecated; the image must be re-pushed with a current client',
    });
  }
  if (document.schemaVersion !== 2) throw new InvalidContentError('manifest schemaVersion must be 2');
  const declared = typeof document.mediaType === 'string' ? document.mediaType : undefined;
  const header = specificMediaType(mediaTypeHeader);
  if (declared && header && declared !== header) {
    throw new InvalidContentError(`manifest mediaType ${declared} does not match Content-Type ${header}`);
  }
  const hasManifests = 'manifests' in document;
  const hasLayers = 'layers' in document || 'config' in document;
  if (hasManifests && hasLayers) throw new InvalidContentError('manifest has both "manifests" and "layers"');
  const mediaType = declared ?? header ?? (hasManifests ? MediaType.ociIndex : MediaType.ociManifest);
  if (hasManifests !== isIndexMediaType(mediaType)) {
    throw new InvalidContentError(`manifest content does not fit its media type ${mediaType}`);
  }
  if (document.subject !== undefined) validateAt('subject', document.subject);
  if (hasManifests) {
    if (!Array.isArray(document.manifests))
      throw new InvalidContentError('index "manifests" must be an array');
    for (const [i, entry] of document.manifests.entries()) validateAt(`manifests[${i}]`, entry);
  } else {
    if (document.config === undefined) throw new InvalidContentError('manifest has no "config"');
    validateAt('config', document.config);
    if (!Array.isArray(document.layers)) throw new InvalidContentError('manifest "layers" must be an array');
    for (const [i, layer] of document.layers.entries()) validateAt(`layers[${i}]`, layer);
  }
  return { mediaType, manifest: document as unknown as Manifest };
}

/** What a manifest points at, to copy before it: an index's manifests, an image's config and layers. */
export function successors(manifest: Manifest): Descriptor[] {
  return isIndex(manifest) ? manifest.manifests : [manifest.config, ...manifest.layers];
}
