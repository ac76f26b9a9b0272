import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { DEFAULT_CONCURRENCY } from '../copy/copy.js';
import { UsageError } from '../errors.js';
import { parsePlatform } from '../oci/index.js';
import type { Platform } from '../oci/types.js';
import {
  parseReference,
  parseRegistryHost,
  parseRegistryReference,
  parseRepositoryName,
} from '../ref/index.js';
import type { OciLayoutReference, RegistryReference, RepositoryName } from '../ref/types.js';
import { compileTagFilter, type TagFilter } from '../tags/filter.js';

/** How tug reaches one registry named in a sync file, beyond the usual credential lookup and certs.d. */
export interface RegistrySettings {
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Names of environment variables holding the username and password (never the secrets themselves). */
  usernameEnv?: string;
  passwordEnv?: string;
  /** At most this many requests a second to the registry, over the whole run. */
  requestsPerSecond?: number;
}

/** What an entry copies along with each image; each may be set in `defaults` and overridden per entry. */
export interface EntryOptions {
  /** Copy an index reduced to these platforms; undefined: every platform. */
  platforms?: Platform[];
  referrers: boolean;
  digestTags: boolean;
  noClobber: boolean;
  tags: TagFilter;
  /**
   * Copy only images with a valid signature by the public key in this file (as written); with
   * `identity`, only signatures that name that repository count.
   */
  verify?: { key: string; identity?: RepositoryName };
}

export type EntryType = 'image' | 'repository' | 'prefix';

export type SyncDestination = RegistryReference | OciLayoutReference;

export interface SyncEntry extends EntryOptions {
  /** 1-based line of the entry in the file, for messages. */
  line: number;
  type: EntryType;
  /** An image (with its tag or digest), a repository, or a repository prefix. */
  source: RegistryReference;
  /** Where the repository (or prefix) goes; for an image, a tag written here replaces the source's. */
  target: SyncDestination;
  /** Whether the target named its own tag (image entries only). */
  targetTag?: string;
}

export interface SyncConfig {
  entries: SyncEntry[];
  /** By registry host as written (normalised as references are). */
  registries: Map<string, RegistrySettings>;
  /** Blob and manifest transfers at once across the whole run. */
  concurrency: number;
  /** The longest a rate-limited registry may make the run wait at once (Retry-After ceiling), in seconds. */
  maxRateLimitWait: number;
}

export const DEFAULT_MAX_RATE_LIMIT_WAIT = 60;

const topKeys = ['defaults', 'registries', 'sync'];
const optionKeys = ['platforms', 'referrers', 'digestTags', 'noClobber', 'tags', 'verify'];
const defaultKeys = [...optionKeys, 'concurrency', 'maxRateLimitWait'];
const entryKeys = [...optionKeys, 'source', 'target', 'type'];
const tagKeys = ['allow', 'deny', 'semver', 'latest'];
const registryKeys = [
  'plainHttp',
  'insecure',
  'caFile',
  'certFile',
  'keyFile',
  'usernameEnv',
  'passwordEnv',
  'requestsPerSecond',
];

/** A sync file that cannot be used: names the file, the line and the key. Exit 2. */
export class SyncConfigError extends UsageError {}

class Reader {
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
  ) {}

  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  fail(node: Node | null | undefined, message: string): never {
    throw new SyncConfigError(`${this.file}:${this.line(node)}: ${message}`);
  }

  map(node: Node | null | undefined, where: string, allowed: string[]): Map<string, Node | null> {
    if (!isMap(node)) this.fail(node, `${where} must be a mapping`);
    const entries = new Map<string, Node | null>();
    for (const pair of (node as YAMLMap).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const keyNode = pair.key as Node;
      if (key === undefined) this.fail(keyNode, `${where} has a key that is not a plain name`);
      if (!allowed.includes(key)) {
        this.fail(keyNode, `unknown key "${key}" in ${where} (known: ${allowed.join(', ')})`);
      }
      entries.set(key, (pair.value as Node | null) ?? null);
    }
    return entries;
  }

  string(node: Node | null | undefined, where: string): string {
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
      this.fail(node, `${where} must be a non-empty string`);
    }
    return (node as { value: string }).value;
  }

  boolean(node: Node | null | undefined, where: string): boolean {
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(node, `${where} must be true or false`);
    return (node as { value: boolean }).value;
  }

  positive(node: Node | null | undefined, where: string, integer: boolean): number {
    const value = isScalar(node) ? node.value : undefined;
    const fits = typeof value === 'number' && value > 0 && (!integer || Number.isSafeInteger(value));
    if (!fits) this.fail(node, `${where} must be a ${integer ? 'whole number' : 'number'} above 0`);
    return value as number;
  }

  strings(node: Node | null | undefined, where: string): string[] {
    if (isScalar(node)) return [this.string(node, where)];
    if (!isSeq(node)) this.fail(node, `${where} must be a string or a list of strings`);
    return (node as { items: Node[] }).items.map((item) => this.string(item, `each of ${where}`));
  }

  /** Runs a parser of a value, turning its UsageError into one that names the line. */
  value<T>(node: Node | null | undefined, parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (error instanceof UsageError && !(error instanceof SyncConfigError)) this.fail(node, error.message);
      throw error;
    }
  }
}

function readTags(reader: Reader, node: Node | null, where: string): TagFilter {
  const keys = reader.map(node, where, tagKeys);
  const filter: TagFilter = {};
  const allow = keys.get('allow');
  const deny = keys.get('deny');
  const range = keys.get('semver');
  const latest = keys.get('latest');
  if (allow !== undefined) filter.allow = reader.strings(allow, `${where}.allow`);
  if (deny !== undefined) filter.deny = reader.strings(deny, `${where}.deny`);
  if (range !== undefined) filter.semver = reader.string(range, `${where}.semver`);
  if (latest !== undefined) filter.latest = reader.positive(latest, `${where}.latest`, true);
  reader.value(node, () => compileTagFilter(filter));
  return filter;
}

function readOptions(
  reader: Reader,
  keys: Map<string, Node | null>,
  where: string,
  base: EntryOptions,
): EntryOptions {
  const options: EntryOptions = { ...base };
  const platforms = keys.get('platforms');
  if (platforms !== undefined) {
    const written = reader.strings(platforms, `${where}.platforms`);
    options.platforms = reader.value(platforms, () => written.map(parsePlatform));
  }
  for (const flag of ['referrers', 'digestTags', 'noClobber'] as const) {
    const node = keys.get(flag);
    if (node !== undefined) options[flag] = reader.boolean(node, `${where}.${flag}`);
  }
  const tags = keys.get('tags');
  if (tags !== undefined) options.tags = readTags(reader, tags, `${where}.tags`);
  const verify = keys.get('verify');
  if (verify !== undefined) {
    const verifyKeys = reader.map(verify, `${where}.verify`, ['key', 'identity']);
    const key = verifyKeys.get('key');
    if (key === undefined) reader.fail(verify, `${where}.verify needs a key (a public key file)`);
    options.verify = { key: reader.string(key, `${where}.verify.key`) };
    const identity = verifyKeys.get('identity');
    if (identity !== undefined) {
      const named = reader.string(identity, `${where}.verify.identity`);
      options.verify.identity = reader.value(identity, () => parseRepositoryName(named));
    }
  }
  return options;
}

/** Whether the user wrote a tag or a digest (the parser adds `latest` when neither is there). */
function namesImage(input: string, reference: RegistryReference): boolean {
  if (reference.digest !== undefined) return true;
  return reference.tag !== 'latest' || /:latest$/.test(input);
}

function readEntry(reader: Reader, node: Node, position: number, defaults: EntryOptions): SyncEntry {
  const where = `sync[${position}]`;
  const keys = reader.map(node, where, entryKeys);
  const sourceNode = keys.get('source');
  const targetNode = keys.get('target');
  if (sourceNode === undefined) reader.fail(node, `${where} needs a source`);
  if (targetNode === undefined) reader.fail(node, `${where} needs a target`);
  const sourceText = reader.string(sourceNode, `${where}.source`);
  const targetText = reader.string(targetNode, `${where}.target`);
  const source = reader.value(sourceNode, () => parseRegistryReference(sourceText));
  const image = namesImage(sourceText, source);
  const typeNode = keys.get('type');
  const type =
    typeNode === undefined ? (image ? 'image' : 'repository') : reader.string(typeNode, `${where}.type`);
  if (type !== 'image' && type !== 'repository' && type !== 'prefix') {
    reader.fail(typeNode, `${where}.type must be image, repository or prefix, not "${type}"`);
  }
  if (type !== 'image' && image) {
    reader.fail(sourceNode, `${where}.source names a tag or digest, so it is one image, not a ${type}`);
  }
  if (type === 'image' && !image) {
    reader.fail(sourceNode, `${where}.source must name a tag or a digest for type image`);
  }
  const target = reader.value(targetNode, () => parseReference(targetText));
  if (target.kind === 'docker-archive') {
    reader.fail(targetNode, `${where}.target: a docker-archive holds one image; mirror into oci:DIR instead`);
  }
  let targetTag: string | undefined;
  if (target.kind === 'registry') {
    if (target.digest !== undefined) reader.fail(targetNode, `${where}.target cannot name a digest`);
    if (namesImage(targetText, target)) {
      if (type !== 'image')
        reader.fail(targetNode, `${where}.target names a tag, so its source must be one image`);
      targetTag = target.tag;
    }
  } else {
    if (target.digest !== undefined) reader.fail(targetNode, `${where}.target cannot name a digest`);
    if (target.tag !== undefined) {
      if (type !== 'image')
        reader.fail(targetNode, `${where}.target names a tag, so its source must be one image`);
      targetTag = target.tag;
    }
  }
  const options = readOptions(reader, keys, where, defaults);
  return {
    ...options,
    line: reader.line(node),
    type,
    source,
    target: target as SyncDestination,
    ...(targetTag === undefined ? {} : { targetTag }),
  };
}

function readRegistry(reader: Reader, keyNode: Node, node: Node | null, host: string): RegistrySettings {
  const where = `registries.${host}`;
  const keys = reader.map(node, where, registryKeys);
  const settings: RegistrySettings = {};
  for (const flag of ['plainHttp', 'insecure'] as const) {
    const value = keys.get(flag);
    if (value !== undefined) settings[flag] = reader.boolean(value, `${where}.${flag}`);
  }
  for (const name of ['caFile', 'certFile', 'keyFile', 'usernameEnv', 'passwordEnv'] as const) {
    const value = keys.get(name);
    if (value !== undefined) settings[name] = reader.string(value, `${where}.${name}`);
  }
  const rate = keys.get('requestsPerSecond');
  if (rate !== undefined)
    settings.requestsPerSecond = reader.positive(rate, `${where}.requestsPerSecond`, false);
  if ((settings.usernameEnv === undefined) !== (settings.passwordEnv === undefined)) {
    reader.fail(keyNode, `${where} needs both usernameEnv and passwordEnv, or neither`);
  }
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    reader.fail(keyNode, `${where} needs both certFile and keyFile, or neither`);
  }
  return settings;
}

/** Parses and checks a sync file; every problem is a SyncConfigError naming `file`, the line and the key. */
export function parseSyncConfig(text: string, file: string): SyncConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const reader = new Reader(file, lines);
  const [syntax] = document.errors;
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new SyncConfigError(`${file}:${line}: ${syntax.message.split('\n')[0]}`);
  }
  const top = reader.map(document.contents, 'the sync file', topKeys);
  const defaultsNode = top.get('defaults');
  const defaultKeysRead =
    defaultsNode === undefined ? new Map() : reader.map(defaultsNode, 'defaults', defaultKeys);
  const base: EntryOptions = { referrers: false, digestTags: false, noClobber: false, tags: {} };
  const defaults = readOptions(reader, defaultKeysRead, 'defaults', base);
  const concurrencyNode = defaultKeysRead.get('concurrency');
  const waitNode = defaultKeysRead.get('maxRateLimitWait');

  const registries = new Map<string, RegistrySettings>();
  const registriesNode = top.get('registries');
  if (registriesNode !== undefined) {
    if (!isMap(registriesNode))
      reader.fail(registriesNode, 'registries must be a mapping of host to settings');
    for (const pair of (registriesNode as YAMLMap).items) {
      const keyNode = pair.key as Node;
      const written = isScalar(pair.key) ? String(pair.key.value) : '';
      const host = reader.value(keyNode, () => parseRegistryHost(written));
      registries.set(host, readRegistry(reader, keyNode, (pair.value as Node | null) ?? null, host));
    }
  }

  const syncNode = top.get('sync');
  if (syncNode === undefined) reader.fail(document.contents, 'the sync file needs a sync list');
  if (!isSeq(syncNode) || syncNode.items.length === 0) reader.fail(syncNode, 'sync must be a non-empty list');
  const entries = (syncNode as { items: Node[] }).items.map((item, position) =>
    readEntry(reader, item, position, defaults),
  );
  return {
    entries,
    registries,
    concurrency:
      concurrencyNode === undefined
        ? DEFAULT_CONCURRENCY
        : reader.positive(concurrencyNode, 'defaults.concurrency', true),
    maxRateLimitWait:
      waitNode === undefined
        ? DEFAULT_MAX_RATE_LIMIT_WAIT
        : reader.positive(waitNode, 'defaults.maxRateLimitWait', false),
  };
}

/** The repository a destination names: a registry repository, or the layout directory. */
export function destinationName(destination: SyncDestination): string {
  return destination.kind === 'registry'
    ? `${destination.registry}/${destination.repository}`
    : `oci:${destination.path}`;
}
