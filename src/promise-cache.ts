/**
 * One promise per key, made on the first ask and shared by every later one. A promise that
 * rejects is forgotten, so the next ask makes a new one: a registry that was not up yet, a
 * directory that was refused, is asked about again.
 */
export class PromiseCache<V> {
  readonly #promises = new Map<string, Promise<V>>();

  get(key: string, make: () => Promise<V>): Promise<V> {
    let promise = this.#promises.get(key);
    if (promise === undefined) {
      promise = make();
      this.#promises.set(key, promise);
      promise.catch(() => this.#promises.delete(key));
    }
    return promise;
  }

  values(): IterableIterator<Promise<V>> {
    return this.#promises.values();
  }

  clear(): void {
    this.#promises.clear();
  }
}
