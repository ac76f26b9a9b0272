import { setMaxListeners } from 'node:events';

/** What every I/O method of the library takes: `signal` stops the operation, which rejects with its reason. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/**
 * `promise`, or a rejection with the signal's reason as soon as it aborts. For work shared by
 * several callers (a connection, a token fetch): one caller stops waiting, the others go on.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', stop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(error);
      },
    );
  });
}

/**
 * A signal that follows `signals` for a run of many operations at once (a copy, a sync). Each
 * operation in flight listens to it, and undici's requests as well, so it holds more listeners
 * than the 10 after which Node warns of a leak; their number is bounded by the run's concurrency,
 * so that warning, printed to the user's terminal, would be false.
 */
export function runSignal(...signals: Array<AbortSignal | undefined>): AbortSignal {
  const signal = AbortSignal.any(signals.filter((each) => each !== undefined));
  setMaxListeners(0, signal);
  return signal;
}

/** How long clean-up after an interrupt (cancelling an upload session) may take before it is abandoned. */
export const CLEANUP_AFTER_ABORT_MS = 500;

/** The signal for a best-effort clean-up request: none normally, a short deadline once `signal` has aborted. */
export function cleanupSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal?.aborted ? AbortSignal.timeout(CLEANUP_AFTER_ABORT_MS) : undefined;
}
