import { UsageError } from '../errors.js';
import { registryApiHost } from '../ref/parse.js';
import { normaliseHostname } from '../transport/address.js';
import {
  type AccessKey,
  type AccessOptions,
  type SideFlags,
  type SideName,
  sideNames,
  sideWords,
} from './side-options.js';

export type { AccessOptions, SideFlags, SideName } from './side-options.js';

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** One side's settings; `registries` is where its credential may go, `flagPrefix` names its flags in messages. */
export interface SideAccess extends AccessOptions {
  registries?: string[];
  flagPrefix: string;
}

/** What identifies the user: each kind goes to one registry only. */
const identities: ReadonlyArray<{ keys: readonly AccessKey[]; plain: string; side: string }> = [
  { keys: ['username', 'password', 'passwordStdin'], plain: '-u/-p/--password-stdin', side: 'username' },
  { keys: ['certFile', 'keyFile'], plain: '--cert-file/--key-file', side: 'cert-file' },
];
const tlsKeys = ['plainHttp', 'insecure', 'caFile'] as const;

function sideKey(side: SideName, key: AccessKey): keyof SideFlags {
  return `${side}${key[0]?.toUpperCase()}${key.slice(1)}` as keyof SideFlags;
}

/**
 * A registry's identity for comparing sides: `LOCALHOST:5000` and `localhost:5000`, `127.1:5000`
 * and `127.0.0.1:5000`, `docker.io` and its API host are one registry.
 */
export function registryKey(registry: string): string {
  const host = registryApiHost(registry);
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!match) return host.toLowerCase();
  const name = normaliseHostname(match[1] ?? '');
  const port = match[2] ? `:${match[2]}` : '';
  return `${name}${port}`;
}

function distinct(registries: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const registry of registries) {
    const key = registryKey(registry);
    if (!seen.has(key)) seen.set(key, registry);
  }
  return [...seen.values()];
}

function pick(values: AccessOptions & SideFlags, side: SideName | undefined, keys: readonly AccessKey[]) {
  const picked: AccessOptions = {};
  for (const key of keys) {
    const value = side ? values[sideKey(side, key)] : values[key];
    if (value !== undefined) Object.assign(picked, { [key]: value });
  }
  return picked;
}

/**
 * The settings of each side of a two-registry command. A credential or a client certificate goes
 * to one registry: plain `-u/-p` (or `--cert-file`) only when both sides are one registry, else
 * `--from-`/`--to-` forms; plain `--plain-http`, `--insecure` and `--ca-file` apply to both sides
 * unless a side's own form overrides them.
 */
export function planSides(
  options: AccessOptions & SideFlags,
  registries: Record<SideName, string[]>,
): Record<SideName, SideAccess> {
  const everyRegistry = distinct([...registries.from, ...registries.to]);
  const plans: Record<SideName, SideAccess> = { from: { flagPrefix: '--' }, to: { flagPrefix: '--' } };
  for (const side of sideNames) {
    Object.assign(plans[side], pick(options, undefined, tlsKeys), pick(options, side, tlsKeys));
  }
  if (options.fromPasswordStdin && options.toPasswordStdin) {
    throw new UsageError('--from-password-stdin and --to-password-stdin cannot both read standard input', {
      hint: 'give one of the two passwords with --from-password/--to-password, or store it with tug login',
    });
  }
  for (const identity of identities) {
    const plain = pick(options, undefined, identity.keys);
    const perSide = sideNames.filter((side) => Object.keys(pick(options, side, identity.keys)).length > 0);
    if (Object.keys(plain).length > 0) {
      if (perSide.length > 0) {
        throw new UsageError(`${identity.plain} cannot be combined with --${perSide[0]}- credentials`, {
          hint: `name each registry's credential with --from-${identity.side} and --to-${identity.side}`,
        });
      }
      if (everyRegistry.length > 1) {
        throw new UsageError(
          `${identity.plain} would be sent to ${everyRegistry.join(' and ')}: name the registry each is for`,
          {
            hint: `use --from-${identity.side} ... for the source and --to-${identity.side} ... for the destination`,
          },
        );
      }
      for (const side of sideNames) Object.assign(plans[side], plain, { registries: everyRegistry });
      continue;
    }
    for (const side of perSide) {
      const sideRegistries = distinct(registries[side]);
      const flag = `--${side}-${kebab(identity.keys[0] ?? '')}`;
      if (sideRegistries.length === 0) {
        throw new UsageError(`${flag} is for a registry, and the ${sideWords[side]} is not a registry`);
      }
      if (sideRegistries.length > 1) {
        throw new UsageError(
          `${flag} would be sent to ${sideRegistries.join(' and ')}: the ${sideWords[side]}s are on different registries`,
          { hint: 'store each credential with tug login instead' },
        );
      }
      Object.assign(plans[side], pick(options, side, identity.keys), {
        registries: sideRegistries,
        flagPrefix: `--${side}-`,
      });
    }
  }
  return plans;
}
