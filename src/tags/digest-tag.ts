/**
 * `sha256-HEX` and `sha256-HEX.sig`, `.att`, `.sbom`: tags that hold referrers or signatures, not
 * images. Apart from the tag filter, so a command that only skips them does not load semver.
 */
export function isDigestTag(tag: string): boolean {
  return /^sha256-[0-9a-f]{64}(?:$|\.)/.test(tag);
}
