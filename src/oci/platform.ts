import { UsageError } from '../errors.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

/** `os/arch[/variant]`, with an optional `:os.version` (`windows/amd64:10.0.17763.1234`). */
export function parsePlatform(input: string): Platform {
  const [spec = '', osVersion] = input.split(':', 2);
  const parts = spec.split('/');
  const valid = /^[a-z0-9._-]+$/i;
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !valid.test(part))) {
    throw new UsageError(`invalid platform "${input}": expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  const [os = '', architecture = '', variant] = parts;
  const platform: Platform = { os: os.toLowerCase(), architecture: architecture.toLowerCase() };
  if (variant) platform.variant = variant.toLowerCase();
  if (osVersion) platform['os.version'] = osVersion;
  return platform;
}

export function formatPlatform(platform: Platform): string {
  const base = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  return platform['os.version'] ? `${base}:${platform['os.version']}` : base;
}

/** The variant an architecture implies when none is written (containerd's normalisation). */
function normalVariant(platform: Platform): string | undefined {
  if (platform.variant) return platform.variant;
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
  return index.manifests.filter(
    (entry) =>
      entry.platform !== undefined && wanted.some((platform) => platformMatches(platform, entry.platform!)),
  );
}
