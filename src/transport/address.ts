import { BlockList, isIP } from 'node:net';

/** How close to this machine a host is, judged by its name or IP literal alone (no DNS). */
export type AddressScope = 'loopback' | 'link-local' | 'private' | 'public';

function blockList(ranges: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

// BlockList also matches IPv4-mapped IPv6 literals (`::ffff:7f00:1`, as WHATWG URLs write them) against IPv4 rules.
const loopback = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['0.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['::', 128, 'ipv6'],
]);
const linkLocal = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const privateRanges = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);

/**
 * A hostname as a socket would reach it: the WHATWG URL host parser lower-cases names and turns
 * every IPv4 spelling (`127.1`, `0x7f.0.0.1`, `2130706433`) into dotted decimal and IPv6 into its
 * short form; a trailing dot (`localhost.`, the fully qualified form) names the same host.
 * IPv6 comes back without brackets.
 */
export function normaliseHostname(hostname: string): string {
  const bare = hostname.replace(/^\[|\]$/g, '');
  let host: string;
  try {
    host = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : hostname}/`).hostname;
  } catch {
    host = hostname.toLowerCase();
  }
  return host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** The scope of a hostname, however it is spelled; names other than `localhost` count as public (they are not resolved). */
export function addressScope(hostname: string): AddressScope {
  const host = normaliseHostname(hostname);
  const version = isIP(host);
  if (version === 0) return host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : 'public';
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(host, family)) return 'loopback';
  if (linkLocal.check(host, family)) return 'link-local';
  if (privateRanges.check(host, family)) return 'private';
  return 'public';
}

/** Whether a hostname is loopback, link-local or private (an IP literal, or `localhost`). */
export function isPrivateAddress(hostname: string): boolean {
  return addressScope(hostname) !== 'public';
}

const reachableFrom: Record<AddressScope, readonly AddressScope[]> = {
  loopback: ['loopback', 'link-local', 'private', 'public'],
  'link-local': ['link-local', 'private', 'public'],
  private: ['private', 'public'],
  public: ['public'],
};

/**
 * Whether a server at `from` may send tug on to `to`: never to an address closer to this machine
 * than itself (public → private, private → loopback), so a remote server cannot aim tug inward.
 */
export function mayPointTo(from: string, to: string): boolean {
  return reachableFrom[addressScope(from)].includes(addressScope(to));
}

/** Same scheme, host and port: anything else is another origin, and no credential follows. */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname === b.hostname && a.port === b.port;
}
