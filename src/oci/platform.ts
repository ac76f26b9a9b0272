import { UsageError } from '../errors.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

/** Architecture names that other tools print, mapped to the OCI names (as containerd does). */
const architectureAliases: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
};

const platformPart = /^[a-z0-9._-]+$/;

/** `os/arch[/variant]`, with an optional `:os.version` (`windows/amd64:10.0.17763.1234`). */
export function parsePlatform(input: string): Platform {
  const colon = input.indexOf(':');
  const spec = (colon < 0 ? input : input.slice(0, colon)).toLowerCase();
  const osVersion = colon < 0 ? undefined : input.slice(colon + 1);
  const parts = spec.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !platformPart.test(part))) {
    throw new UsageError(`invalid platform "${input}": expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  if (osVersion !== undefined && !/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(osVersion)) {
    throw new UsageError(`invalid platform "${input}": the os version after ":" is malformed`);
  }
  const [os = '', written = '', writtenVariant] = parts;
  const alias = architectureAliases[written];
  const platform: Platform = { os, architecture: alias?.architecture ?? written };
  const variant = writtenVariant ?? alias?.variant;
  if (variant) platform.variant = variant;
  if (osVersion) platform['os.version'] = osVersion;
  return platform;
}

/** A platform as written on a command line: `os/arch[/variant]`. */
export function formatPlatform(platform: Platform): string {
  const base = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  return platform['os.version'] ? `${base}:${platform['os.version']}` : base;
}

/** The variant an architecture implies when none is written (containerd's normalisation). */
function normalVariant(platform: Platform): string | undefined {
  if (platform.variant)
    return platform.architecture === 'arm64' && platform.variant === '8' ? 'v8' : platform.variant;
  if (platform.architecture === 'arm64') return 'v8';
  if (platform.architecture === 'arm') return 'v7';
  if (platform.architecture === 'amd64') return 'v1';
  return undefined;
}

/** Same os and architecture; the variant must agree when the wanted platform names one. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  if (wanted['os.version'] && wanted['os.version'] !== candidate['os.version']) return false;
  if (!wanted.variant) return true;
  return normalVariant(wanted) === normalVariant(candidate);
}

/** The entries of an index for the wanted platforms, in index order. */
export function selectManifests(index: ImageIndex, wanted: Platform[]): Descriptor[] {
  return index.manifests.filter((entry) => {
    const { platform } = entry;
    return platform !== undefined && wanted.some((want) => platformMatches(want, platform));
  });
}
