import { TugError } from '../errors.js';

/** Nodes a graph walk (copy, referrers) visits before it stops: a hostile registry can list referrers forever. */
export const DEFAULT_MAX_NODES = 10_000;

/** A graph walk went past its node limit: more nodes (or referrer links) than anyone copies on purpose. */
export class GraphLimitError extends TugError {
  constructor(
    readonly limit: number,
    what: string,
  ) {
    super(`stopped after ${limit} ${what}: the graph is larger than the limit`, {
      code: 'TOO_LARGE',
      option: 'maxNodes',
    });
  }
}

/** Counts what a walk visits and throws GraphLimitError once it goes past `limit`. */
export class NodeBudget {
  #used = 0;

  constructor(
    readonly limit: number,
    readonly what: string,
  ) {}

  take(): void {
    this.#used += 1;
    if (this.#used > this.limit) throw new GraphLimitError(this.limit, this.what);
  }
}
