/**
 * Milliseconds on a monotonic clock. Not `performance.now()`: the first use of that global loads
 * Node's perf_hooks modules, a millisecond and more of a command's start-up.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
