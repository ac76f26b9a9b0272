import { InvalidContentError, InvalidReferenceError } from '../../errors.js';
import { validateDescriptor } from '../../oci/index.js';
import { MediaType } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/types.js';
import { isLayoutRefName } from '../../ref/parse.js';

/** The annotation an OCI layout names its manifests with (the layout's tags). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** `index.json` as read: the document (unknown fields kept for rewriting) and its validated entries. */
export interface LayoutIndex {
  document: Record<string, unknown>;
  entries: LayoutIndexEntry[];
}

export interface LayoutIndexEntry {
  /** The entry exactly as the file holds it, written back untouched. */
  raw: unknown;
  descriptor: Descriptor;
}

export function emptyLayoutIndex(): LayoutIndex {
  return { document: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }, entries: [] };
}

export function parseLayoutIndex(bytes: Uint8Array, location: string): LayoutIndex {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidContentError(`${location} is not valid JSON`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new InvalidContentError(`${location} is not an image index`);
  }
  const manifests: unknown = (document as Record<string, unknown>).manifests;
  if (!Array.isArray(manifests)) throw new InvalidContentError(`${location} has no manifests array`);
  const entries = manifests.map((raw: unknown) => {
    try {
      return { raw, descriptor: validateDescriptor(raw) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidContentError(`${location} lists an invalid descriptor: ${reason}`, { cause: error });
    }
  });
  return { document: document as Record<string, unknown>, entries };
}

export function serializeLayoutIndex(index: LayoutIndex): string {
  return `${JSON.stringify({ ...index.document, manifests: index.entries.map((entry) => entry.raw) })}\n`;
}

export function refNameOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[REF_NAME];
}

/** The index with `descriptor` named `reference`; an entry that held that name before is dropped. */
export function withTaggedEntry(index: LayoutIndex, descriptor: Descriptor, reference: string): LayoutIndex {
  const tagged: Descriptor = {
    ...descriptor,
    annotations: { ...descriptor.annotations, [REF_NAME]: reference },
  };
  const others = index.entries.filter((entry) => refNameOf(entry.descriptor) !== reference);
  return { document: index.document, entries: [...others, { raw: tagged, descriptor: tagged }] };
}

/** The descriptor a caller gets back: the layout's own name for it removed. */
export function withoutRefName(descriptor: Descriptor): Descriptor {
  const { annotations, ...rest } = descriptor;
  if (annotations === undefined) return rest;
  const { [REF_NAME]: _refName, ...kept } = annotations;
  return Object.keys(kept).length > 0 ? { ...rest, annotations: kept } : rest;
}

export function assertValidRefName(reference: string): void {
  if (!isLayoutRefName(reference)) {
    throw new InvalidReferenceError(
      reference,
      'not a valid OCI layout tag (letters, digits, and . _ - : @ + /)',
    );
  }
}
