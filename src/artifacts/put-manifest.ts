import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { digestOf, MAX_MANIFEST_BYTES, parseManifest } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { SignalOptions, WriteTarget } from '../targets/target.js';

/**
 * The descriptor of a manifest given as bytes: its media type (the document's own, or `mediaType`
 * when it names none), digest and size. Throws when it is too large or not a manifest.
 */
export function manifestDescriptor(bytes: Uint8Array, mediaType?: string): Descriptor {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new UsageError(
      `the manifest is ${bytes.byteLength} bytes; manifests are limited to ${MAX_MANIFEST_BYTES} bytes`,
    );
  }
  const parsed = parseManifest(bytes, mediaType);
  return { mediaType: parsed.mediaType, digest: digestOf(bytes), size: bytes.byteLength };
}

/** Pushes a manifest's exact bytes and, when given, points `tag` at it. */
export async function putManifest(
  target: WriteTarget,
  descriptor: Descriptor,
  bytes: Uint8Array,
  options: SignalOptions & { tag?: string } = {},
): Promise<void> {
  const signal = { signal: options.signal };
  await target.push(descriptor, Readable.from([bytes]), signal);
  if (options.tag) await target.tag(descriptor, options.tag, signal);
}
