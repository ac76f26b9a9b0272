import { AuthError } from '../errors.js';
import { addressScope, mayPointTo } from '../transport/address.js';

/**
 * Where a registry may send credentials for a token: an http(s) realm, never HTTPS → HTTP, and
 * never from a public registry to a loopback, link-local or private address (nor from a private
 * one to loopback or link-local). Checked before any request is made.
 */
export function validateRealm(realm: string, registryOrigin: string, registry: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new AuthError(`${registry} named an invalid token realm "${realm.slice(0, 100)}"`);
  }
  const origin = new URL(registryOrigin);
  const named = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AuthError(`refusing the token realm ${named} of ${registry}: not http(s)`);
  }
  if (origin.protocol === 'https:' && url.protocol === 'http:') {
    throw new AuthError(`refusing the plain-HTTP token realm ${named} of the HTTPS registry ${registry}`);
  }
  if (!mayPointTo(origin.hostname, url.hostname)) {
    const registryScope = addressScope(origin.hostname);
    const realmScope = addressScope(url.hostname);
    throw new AuthError(
      `refusing the token realm ${named} of ${registry}: a private address (${realmScope}) that a ${registryScope} registry may not send credentials to`,
    );
  }
  return url;
}
