/**
 * Who waits for whom during a walk. Content-addressed successors cannot form a cycle, but extra
 * successors (referrers listed by a registry) can: A lists B and B lists A. Waiting along such an
 * edge would never end, so the walk asks first and drops the edge that would close a cycle.
 */
export class WaitGraph {
  readonly #waitsFor = new Map<string, Set<string>>();

  /** Records that `waiter` waits for `awaited`, unless `awaited` already waits (through others) for `waiter`. */
  tryWait(waiter: string, awaited: string): boolean {
    if (this.#reaches(awaited, waiter)) return false;
    const edges = this.#waitsFor.get(waiter) ?? new Set<string>();
    edges.add(awaited);
    this.#waitsFor.set(waiter, edges);
    return true;
  }

  /** A finished node waits for nothing, so no cycle can pass through it. */
  finished(node: string): void {
    this.#waitsFor.delete(node);
  }

  #reaches(from: string, to: string): boolean {
    const seen = new Set<string>();
    const pending = [from];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      if (node === to) return true;
      if (seen.has(node)) continue;
      seen.add(node);
      pending.push(...(this.#waitsFor.get(node) ?? []));
    }
    return false;
  }
}
