import { createHash } from 'node:crypto';
import { InvalidContentError } from '../errors.js';
import type { Descriptor, Platform } from './types.js';

/** The digest algorithms of the image-spec ("Digests"). */
export type DigestAlgorithm = 'sha256' | 'sha512';

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/**
 * Parses `algorithm:hex` strictly: a known algorithm, lowercase hex of the exact length. Anything
 * else (`sha256:../../etc/passwd`, uppercase, truncated) is refused before it can become a path,
 * a URL or an allocation.
 */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  if (colon < 0) throw new InvalidContentError(`invalid digest "${digest}": expected algorithm:hex`);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new InvalidContentError(`invalid digest "${digest}": unsupported algorithm "${algorithm}"`);
  }
  if (hex.length !== hexLength[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new InvalidContentError(
      `invalid digest "${digest}": ${algorithm} needs ${hexLength[algorithm]} lowercase hex characters`,
    );
  }
  return { algorithm, hex };
}

export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/** The digest of `bytes` (`sha256:…`). */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}

function validatePlatform(value: unknown): Platform {
  const platform = value as Partial<Platform> | null;
  if (
    typeof platform !== 'object' ||
    platform === null ||
    typeof platform.os !== 'string' ||
    typeof platform.architecture !== 'string'
  ) {
    throw new InvalidContentError('invalid descriptor: platform needs os and architecture');
  }
  return platform as Platform;
}

/** Checks a descriptor from untrusted JSON: media type, a valid digest, a sane size. */
export function validateDescriptor(value: unknown): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidContentError('invalid descriptor: not an object');
  }
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.mediaType !== 'string' || candidate.mediaType === '') {
    throw new InvalidContentError('invalid descriptor: missing mediaType');
  }
  if (typeof candidate.digest !== 'string')
    throw new InvalidContentError('invalid descriptor: missing digest');
  parseDigest(candidate.digest);
  if (typeof candidate.size !== 'number' || !Number.isSafeInteger(candidate.size) || candidate.size < 0) {
    throw new InvalidContentError(
      `invalid descriptor ${candidate.digest}: size must be a non-negative integer`,
    );
  }
  if (candidate.annotations !== undefined && !isStringRecord(candidate.annotations)) {
    throw new InvalidContentError(`invalid descriptor ${candidate.digest}: annotations must be strings`);
  }
  if (
    candidate.urls !== undefined &&
    (!Array.isArray(candidate.urls) || candidate.urls.some((u) => typeof u !== 'string'))
  ) {
    throw new InvalidContentError(`invalid descriptor ${candidate.digest}: urls must be strings`);
  }
  if (candidate.artifactType !== undefined && typeof candidate.artifactType !== 'string') {
    throw new InvalidContentError(`invalid descriptor ${candidate.digest}: artifactType must be a string`);
  }
  if (candidate.data !== undefined && typeof candidate.data !== 'string') {
    throw new InvalidContentError(`invalid descriptor ${candidate.digest}: data must be a base64 string`);
  }
  if (candidate.platform !== undefined) validatePlatform(candidate.platform);
  return candidate as unknown as Descriptor;
}
