import semver from 'semver';
import { UsageError } from '../errors.js';
import { isDigestTag } from './digest-tag.js';

/** Which tags of a repository to take. Every part is optional; an empty filter takes every tag. */
export interface TagFilter {
  /** Regular expressions (unanchored); a tag must match one of them. */
  allow?: string[];
  /** Regular expressions (unanchored); a tag matching any of them is dropped. */
  deny?: string[];
  /** A semver range (`>=3.18`, `^1.2`); only tags that read as versions inside it are kept. */
  semver?: string;
  /** Only the N newest of the remaining tags that read as versions. */
  latest?: number;
  /** Drop `sha256-HEX` tags (the referrers tag schema, cosign's `.sig`/`.att`/`.sbom`). */
  excludeDigestTags?: boolean;
}

// Tags are looser than semver: `v1.2`, `3.18` and `3` are versions too (missing parts are 0).
const versionTag = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** The version a tag reads as (`v1.2` → 1.2.0, `3.19-rc1` → 3.19.0-rc1), or undefined. */
export function tagVersion(tag: string): semver.SemVer | undefined {
  const match = versionTag.exec(tag);
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', prerelease = '', build = ''] = match;
  return semver.parse(`${major}.${minor}.${patch}${prerelease}${build}`) ?? undefined;
}

/** Version tags oldest first (equal versions, `3.19` and `3.19.0`, by name); other tags are left out. */
export function sortBySemver(tags: Iterable<string>): string[] {
  const versions = [...tags].flatMap((tag) => {
    const version = tagVersion(tag);
    return version ? [{ tag, version }] : [];
  });
  versions.sort((a, b) => semver.compare(a.version, b.version) || a.tag.localeCompare(b.tag));
  return versions.map(({ tag }) => tag);
}

function compileRegexes(patterns: string[] | undefined, what: string): RegExp[] {
  return (patterns ?? []).map((pattern) => {
    try {
      return new RegExp(pattern, 'u');
    } catch (error) {
      throw new UsageError(`invalid ${what} regular expression ${JSON.stringify(pattern)}: ${String(error)}`);
    }
  });
}

/**
 * A filter checked once (bad regular expressions, ranges and counts are UsageErrors) and then
 * applied to tag lists: allow and deny, then the semver range, then the N newest. The result
 * keeps the input order, except that `latest` sorts oldest to newest.
 */
export function compileTagFilter(filter: TagFilter): (tags: Iterable<string>) => string[] {
  const allow = compileRegexes(filter.allow, 'allow');
  const deny = compileRegexes(filter.deny, 'deny');
  const range = filter.semver === undefined ? undefined : semver.validRange(filter.semver);
  if (range === null) throw new UsageError(`invalid semver range ${JSON.stringify(filter.semver)}`);
  const { latest } = filter;
  if (latest !== undefined && (!Number.isSafeInteger(latest) || latest < 1)) {
    throw new UsageError(`latest must be a whole number of at least 1, not ${latest}`);
  }
  return (tags) => {
    const kept = [...new Set(tags)].filter((tag) => {
      if (filter.excludeDigestTags && isDigestTag(tag)) return false;
      if (allow.length > 0 && !allow.some((regex) => regex.test(tag))) return false;
      if (deny.some((regex) => regex.test(tag))) return false;
      if (range === undefined) return true;
      const version = tagVersion(tag);
      return version !== undefined && semver.satisfies(version, range);
    });
    return latest === undefined ? kept : sortBySemver(kept).slice(-latest);
  };
}
