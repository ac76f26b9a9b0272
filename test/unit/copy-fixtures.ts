import { Readable } from 'node:stream';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export async function put(target: MemoryTarget, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  await target.push(descriptor, Readable.from([bytes]));
  return descriptor;
}

export async function putImage(target: MemoryTarget, architecture: string, layers: Descriptor[]) {
  const config = await put(target, json({ architecture, os: 'linux' }), MediaType.ociConfig);
  const manifest = await put(
    target,
    json({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }),
    MediaType.ociManifest,
  );
  return { config, manifest };
}

export async function putIndex(target: MemoryTarget, manifests: Descriptor[]): Promise<Descriptor> {
  return put(
    target,
    json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }),
    MediaType.ociIndex,
  );
}

/** index → two manifests → a config each, a layer each, and one layer both share: 8 nodes. */
export async function twoPlatformIndex(target: MemoryTarget) {
  const shared = await put(target, Buffer.from('shared layer'), MediaType.ociLayerGzip);
  const amd64Layer = await put(target, Buffer.from('layer of amd64'), MediaType.ociLayerGzip);
  const arm64Layer = await put(
    target,
    Buffer.from('layer of arm64, a little longer'),
    MediaType.ociLayerGzip,
  );
  const amd64 = await putImage(target, 'amd64', [shared, amd64Layer]);
  const arm64 = await putImage(target, 'arm64', [shared, arm64Layer]);
  const index = await putIndex(target, [
    { ...amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm64.manifest, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  const all = [
    index,
    amd64.manifest,
    arm64.manifest,
    amd64.config,
    arm64.config,
    shared,
    amd64Layer,
    arm64Layer,
  ];
  return { index, shared, amd64, arm64, amd64Layer, arm64Layer, all };
}

/** A memory target that records the calls made to it and how many pushes overlap. */
export class RecordingTarget extends MemoryTarget {
  readonly pushed: string[] = [];
  readonly fetched: string[] = [];
  readonly fetchedBytes: string[] = [];
  readonly checked: string[] = [];
  /** Checks and finished pushes in the order they happened: `exists <digest>`, `pushed <digest>`. */
  readonly calls: string[] = [];
  pushing = 0;
  maxPushing = 0;

  constructor(readonly pushDelayMs = 0) {
    super();
  }

  override async push(descriptor: Descriptor, content: Readable): Promise<void> {
    this.pushing += 1;
    this.maxPushing = Math.max(this.maxPushing, this.pushing);
    try {
      if (this.pushDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pushDelayMs));
      await super.push(descriptor, content);
      this.pushed.push(descriptor.digest);
      this.calls.push(`pushed ${descriptor.digest}`);
    } finally {
      this.pushing -= 1;
    }
  }

  override async fetch(descriptor: Descriptor): Promise<Readable> {
    this.fetched.push(descriptor.digest);
    return super.fetch(descriptor);
  }

  override async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    this.fetchedBytes.push(descriptor.digest);
    return super.fetchBytes(descriptor);
  }

  override async exists(descriptor: Descriptor): Promise<boolean> {
    this.checked.push(descriptor.digest);
    this.calls.push(`exists ${descriptor.digest}`);
    return super.exists(descriptor);
  }
}

/** Copies the nodes `descriptors` from one memory target to another, as an earlier partial copy would have. */
export async function seed(from: MemoryTarget, to: MemoryTarget, descriptors: Descriptor[]): Promise<void> {
  for (const descriptor of descriptors) await to.push(descriptor, await from.fetch(descriptor));
}
