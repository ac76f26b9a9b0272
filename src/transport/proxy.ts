import { BlockList, isIP } from 'node:net';

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function unbracket(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** One NO_PROXY entry against a host: `*`, a name and its subdomains (`.suffix` too), an IP, an IP/CIDR, each with an optional port. */
function matchesEntry(host: string, port: string, rawEntry: string): boolean {
  const entry = rawEntry.toLowerCase();
  if (entry === '*') return true;
  const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
  const name = unbracket(withPort?.[1] ?? entry);
  if (withPort?.[2] && withPort[2] !== port) return false;
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(name);
  if (cidr?.[1] && cidr[2]) {
    const family = isIP(cidr[1]);
    const hostFamily = isIP(host);
    if (family === 0 || hostFamily === 0) return false;
    const list = new BlockList();
    try {
      list.addSubnet(cidr[1], Number(cidr[2]), family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return false;
    }
    return list.check(host, hostFamily === 4 ? 'ipv4' : 'ipv6');
  }
  const bare = name.replace(/^\*?\./, '');
  return host === bare || host.endsWith(`.${bare}`);
}

/** Whether NO_PROXY exempts this URL, with curl's rules (comma or space separated entries). */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = unbracket(url.hostname);
  const port = defaultPort(url);
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => matchesEntry(host, port, entry));
}

/**
 * The proxy for a URL from HTTPS_PROXY / HTTP_PROXY (or lower case), as curl reads them: the
 * proxy applies to every host, loopback included, unless NO_PROXY names it.
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (bypassesProxy(url, env.NO_PROXY ?? env.no_proxy)) return undefined;
  const proxy =
    url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  return proxy || undefined;
}
