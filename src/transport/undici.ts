import type { Dispatcher, Pool as PoolClass, ProxyAgent } from 'undici';
import requestApi from 'undici/lib/api/api-request.js';
import undiciPool from 'undici/lib/dispatcher/pool.js';

/**
 * The parts of undici used on every request, imported by their paths inside the package: its
 * index loads some 110 modules (fetch, cookies, caches, mocks) that every command would pay for
 * at start-up. package.json pins undici's exact version for these paths, and a test proves they
 * are the package's own Pool and request.
 */
export const Pool: typeof PoolClass = undiciPool;

/** `dispatcher.request(options)`, which undici's index attaches to every dispatcher. */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return requestApi.call(dispatcher, options);
}

/** The proxy agent, with the rest of undici: loaded only when a proxy is configured. */
export async function loadProxyAgent(): Promise<typeof ProxyAgent> {
  return (await import('undici')).ProxyAgent;
}
