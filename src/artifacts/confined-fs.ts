import { lstat, mkdir, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix, win32 } from 'node:path';
import { PathTraversalError } from './safe-path.js';

/** The target of the link at `components` (relative to a root), or undefined when that path is no link. */
export type LinkReader = (components: readonly string[]) => Promise<string | undefined>;

/** Reads links as they are on disk under `root`, never following the last component. */
export function linksOnDisk(root: string): LinkReader {
  return async (components) => {
    const path = join(root, ...components);
    const stats = await lstat(path).catch(() => undefined);
    return stats?.isSymbolicLink() ? readlink(path) : undefined;
  };
}

/** As many links as Linux follows in one lookup before it gives up. */
const maxHops = 40;

/**
 * Why a link at `location` (relative to the root) pointing at `target` is unsafe, or undefined
 * when it stays inside. Each component is looked up through `read`, so a link that climbs
 * through other links is followed as the kernel would; a missing component is taken as text.
 */
export async function linkEscape(
  location: string,
  target: string,
  read: LinkReader,
): Promise<string | undefined> {
  const absolute = (path: string) => isAbsolute(path) || win32.isAbsolute(path) || path.includes('\\');
  if (absolute(target)) return 'it is an absolute path';
  const current = posix
    .dirname(location)
    .split('/')
    .filter((part) => part !== '.' && part !== '');
  const queue = target.split('/');
  let hops = 0;
  for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return 'it leads outside the output directory';
      current.pop();
      continue;
    }
    const linked = await read([...current, part]);
    if (linked === undefined) {
      current.push(part);
      continue;
    }
    hops += 1;
    if (hops > maxHops) return 'it goes through too many links';
    if (absolute(linked)) return 'it leads outside the output directory';
    queue.unshift(...linked.split('/'));
  }
  return undefined;
}

/**
 * Makes sure every parent of `relative` under `root` is a real directory, creating the missing
 * ones. Each component is looked at on disk now, never remembered: a link is refused, even one
 * that stays inside, so nothing is ever written through a link.
 */
export async function makeParents(root: string, relative: string): Promise<void> {
  const parts = posix
    .dirname(relative)
    .split('/')
    .filter((part) => part !== '.' && part !== '');
  for (let i = 1; i <= parts.length; i++) {
    const current = parts.slice(0, i).join('/');
    const path = join(root, current);
    let stats = await lstat(path).catch(() => undefined);
    if (!stats) {
      await mkdir(path, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      stats = await lstat(path);
    }
    if (stats.isSymbolicLink()) {
      const unsafe = await linkEscape(current, await readlink(path), linksOnDisk(root));
      const why = unsafe ? 'that leads outside the output directory' : '(tug never writes through a link)';
      throw new PathTraversalError(`refusing to write ${relative}: ${current} is a symbolic link ${why}`);
    }
    if (!stats.isDirectory()) {
      throw new PathTraversalError(`refusing to write ${relative}: ${current} is not a directory`);
    }
  }
}
