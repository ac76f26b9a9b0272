import { isIP } from 'node:net';
import { AuthError } from '../errors.js';

/** How far from the public internet a host is, judged by its name or IP literal alone. */
export type AddressScope = 'loopback' | 'link-local' | 'private' | 'public';

function ipv4Scope(address: string): AddressScope {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 127 || a === 0) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  return 'public';
}

function ipv6Scope(address: string): AddressScope {
  if (address === '::1' || address === '::') return 'loopback';
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (dotted) return ipv4Scope(dotted);
  // WHATWG URLs write an IPv4-mapped address in hex: [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (hex?.[1] && hex[2]) {
    const [high, low] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
    return ipv4Scope(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  if (/^fe[89ab]/.test(address)) return 'link-local';
  if (/^f[cd]/.test(address)) return 'private';
  return 'public';
}

/** The scope of a URL hostname; names other than `localhost` count as public (they are not resolved). */
export function addressScope(hostname: string): AddressScope {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const version = isIP(host);
  if (version === 4) return ipv4Scope(host);
  if (version === 6) return ipv6Scope(host);
  return host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : 'public';
}

/** Realm scopes a registry of each scope may name: never one closer to this machine than itself. */
const allowedRealmScopes: Record<AddressScope, readonly AddressScope[]> = {
  loopback: ['loopback', 'link-local', 'private', 'public'],
  'link-local': ['link-local', 'private', 'public'],
  private: ['private', 'public'],
  public: ['public'],
};

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
  const registryScope = addressScope(origin.hostname);
  const realmScope = addressScope(url.hostname);
  if (!allowedRealmScopes[registryScope].includes(realmScope)) {
    throw new AuthError(
      `refusing the token realm ${named} of ${registry}: a private address (${realmScope}) that a ${registryScope} registry may not send credentials to`,
    );
  }
  return url;
}
