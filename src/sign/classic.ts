import { Readable } from 'node:stream';
import { NotFoundError, TugError } from '../errors.js';
import { digestOf, isIndex, MediaType, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { referrersTag } from '../targets/referrers-tag.js';
import {
  isConditionalTagger,
  type ReadTarget,
  type SignalOptions,
  type TagState,
  type WriteTarget,
} from '../targets/target.js';

/** The layer media type of a simple-signing payload, and the annotation holding its base64 signature. */
export const simpleSigningMediaType = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const signatureAnnotation = 'dev.cosignproject.cosign/signature';

/** cosign's classic signature tag beside the image: `sha256-HEX.sig`. */
export function signatureTag(subject: Descriptor): string {
  return `${referrersTag(subject)}.sig`;
}

/** The signature manifest at the `.sig` tag, or undefined when the image has none. */
export async function readSignatureManifest(
  target: ReadTarget,
  subject: Descriptor,
  options: SignalOptions = {},
): Promise<{ descriptor: Descriptor; manifest: ImageManifest } | undefined> {
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(signatureTag(subject), options);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  return {
    descriptor,
    manifest: asImageManifest(await target.fetchBytes(descriptor, options), descriptor),
  };
}

function asImageManifest(bytes: Uint8Array, descriptor: Descriptor): ImageManifest {
  const { manifest } = parseManifest(bytes, descriptor.mediaType);
  if (isIndex(manifest)) {
    throw new TugError(`the signature tag ${descriptor.digest} holds an index, not a signature manifest`);
  }
  return manifest;
}

async function pushBytes(
  target: WriteTarget,
  mediaType: string,
  bytes: Uint8Array,
  options: SignalOptions,
): Promise<Descriptor> {
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (!(await target.exists(descriptor, options))) {
    await target.push(descriptor, Readable.from([Buffer.from(bytes)]), options);
  }
  return descriptor;
}

/** The image config cosign gives a signature manifest: no platform, one diff ID per payload layer. */
function signatureConfig(layers: readonly Descriptor[]): Uint8Array {
  const config = {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    config: {},
  };
  return Buffer.from(JSON.stringify(config), 'utf8');
}

/** Pushes the signature manifest with `layer` appended to `previous` layers; the tag is not moved here. */
async function pushWithLayer(
  target: WriteTarget,
  previous: readonly Descriptor[],
  layer: Descriptor,
  options: SignalOptions,
): Promise<Descriptor> {
  const layers = [...previous, layer];
  const config = await pushBytes(target, MediaType.ociConfig, signatureConfig(layers), options);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers };
  return pushBytes(target, MediaType.ociManifest, Buffer.from(JSON.stringify(manifest), 'utf8'), options);
}

/** Signers that may race on one `.sig` tag before a signature gives up. */
const maxTagRaces = 5;

/**
 * Adds a signed payload to the image's `.sig` manifest as one more layer, as cosign does. On a
 * registry the tag moves only if nobody moved it since it was read (If-Match on its ETag,
 * If-None-Match when new); a lost race re-reads and appends again.
 */
export async function appendClassicSignature(
  target: WriteTarget,
  subject: Descriptor,
  payload: Uint8Array,
  signature: Uint8Array,
  options: SignalOptions = {},
): Promise<Descriptor> {
  const tag = signatureTag(subject);
  const blob = await pushBytes(target, simpleSigningMediaType, payload, options);
  const layer: Descriptor = {
    ...blob,
    annotations: { [signatureAnnotation]: Buffer.from(signature).toString('base64') },
  };
  if (!isConditionalTagger(target)) {
    const existing = await readSignatureManifest(target, subject, options);
    const pushed = await pushWithLayer(target, existing?.manifest.layers ?? [], layer, options);
    await target.tag(pushed, tag, options);
    return pushed;
  }
  for (let attempt = 0; attempt < maxTagRaces; attempt++) {
    const state: TagState | undefined = await target.readTag(tag, options);
    const previous = state ? asImageManifest(state.bytes, state.descriptor).layers : [];
    const pushed = await pushWithLayer(target, previous, layer, options);
    if (await target.tagIf(pushed, tag, state, options)) return pushed;
  }
  throw new TugError(`the signature tag ${tag} kept changing under other signers`, { hint: 'sign again' });
}
