/**
 * Manifests a target has pushed or read in this process, by digest, so that reading one again
 * (tagging it, or copying the root a resolve just fetched) needs no request. Bounded in count and
 * in bytes, the oldest forgotten first: a registry serving 4 MiB manifests to a long sync must not
 * make tug hold them all. The bytes are content-addressed, so what is remembered never goes stale.
 */
export class ManifestMemory {
  readonly #bytes = new Map<string, Uint8Array>();
  #held = 0;

  constructor(
    readonly maxManifests: number,
    readonly maxBytes: number,
  ) {}

  get(digest: string): Uint8Array | undefined {
    return this.#bytes.get(digest);
  }

  remember(digest: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes) return;
    this.#forget(digest);
    while (this.#bytes.size >= this.maxManifests || this.#held + bytes.byteLength > this.maxBytes) {
      const oldest = this.#bytes.keys().next().value;
      if (oldest === undefined) break;
      this.#forget(oldest);
    }
    this.#bytes.set(digest, bytes);
    this.#held += bytes.byteLength;
  }

  #forget(digest: string): void {
    const bytes = this.#bytes.get(digest);
    if (bytes === undefined) return;
    this.#bytes.delete(digest);
    this.#held -= bytes.byteLength;
  }
}
