import { InvalidReferenceError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import type {
  DockerArchiveReference,
  OciArchiveReference,
  OciLayoutReference,
  Reference,
  RegistryReference,
  RepositoryName,
} from './types.js';

const dockerHub = 'docker.io';
const dockerHubAliases = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
// The image-layout spec's grammar for org.opencontainers.image.ref.name (a layout's tag).
const refNameComponent = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const refNamePattern = new RegExp(`^${refNameComponent}(?:/${refNameComponent})*$`);
const hostnameComponent = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const maxNameLength = 255;

function validPort(port: string | undefined): boolean {
  return port === undefined || (/^\d{1,5}$/.test(port) && Number(port) <= 65535);
}

function validHost(host: string): boolean {
  const ipv6 = /^\[[0-9a-fA-F:.]+\](?::(\d+))?$/.exec(host);
  if (ipv6) return validPort(ipv6[1]);
  const [name = '', port, extra] = host.split(':');
  if (extra !== undefined || !validPort(port)) return false;
  return name.split('.').every((part) => hostnameComponent.test(part));
}

function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[')
  );
}

/**
 * `localhost:5000`, `registry.example.com:443` or `[::1]:5000` alone. The docker grammar reads these as a Docker
 * Hub repository with a numeric tag; nobody means that, so tug says the repository is missing.
 */
function isBareHost(name: string, tag: string | undefined): boolean {
  if (name.includes('/')) return false;
  if (name.startsWith('[')) return true;
  return tag !== undefined && /^\d+$/.test(tag) && (name === 'localhost' || name.includes('.'));
}

function normaliseRegistry(host: string): string {
  return dockerHubAliases.has(host) ? dockerHub : host;
}

/** Splits `host/path` into a normalised registry and repository, validating both. */
function parseName(input: string, name: string): RepositoryName {
  if (name === '') throw new InvalidReferenceError(input, 'missing repository');
  if (name.length > maxNameLength)
    throw new InvalidReferenceError(input, `name is longer than ${maxNameLength} characters`);
  const slash = name.indexOf('/');
  const first = slash < 0 ? name : name.slice(0, slash);
  let registry = dockerHub;
  let repository = name;
  if (slash >= 0 && looksLikeHost(first)) {
    if (!validHost(first)) throw new InvalidReferenceError(input, `invalid registry host "${first}"`);
    registry = normaliseRegistry(first);
    repository = name.slice(slash + 1);
  }
  if (repository === '') throw new InvalidReferenceError(input, 'missing repository');
  const components = repository.split('/');
  for (const component of components) {
    if (component === '')
      throw new InvalidReferenceError(input, 'empty path component (a leading, trailing or double "/")');
    if (pathComponent.test(component)) continue;
    if (pathComponent.test(component.toLowerCase()))
      throw new InvalidReferenceError(input, 'repository must be lowercase');
    throw new InvalidReferenceError(input, `invalid repository path component "${component}"`);
  }
  if (registry === dockerHub && components.length === 1) repository = `library/${repository}`;
  return { registry, repository };
}

function checkNoScheme(input: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    throw new InvalidReferenceError(
      input,
      'a reference has no scheme: write HOST/REPO, not https://HOST/REPO',
    );
  }
  if (/\s/.test(input)) throw new InvalidReferenceError(input, 'whitespace is not allowed');
}

function checkDigest(input: string, digest: string): void {
  try {
    parseDigest(digest);
  } catch (error) {
    throw new InvalidReferenceError(input, (error as Error).message);
  }
}

function checkTag(input: string, tag: string): void {
  if (!tagPattern.test(tag)) {
    throw new InvalidReferenceError(
      input,
      `tag "${tag}" is invalid (letters, digits, _ . - up to 128, not starting with . or -)`,
    );
  }
}

/** `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`, normalised as docker does. */
export function parseRegistryReference(input: string): RegistryReference {
  // skopeo's name for the registry transport, which its users type by habit.
  if (input.startsWith('docker://')) return parseRegistryReference(input.slice('docker://'.length));
  if (input === '') throw new InvalidReferenceError(input, 'empty reference');
  checkNoScheme(input);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(input, digest);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/') && lastColon > rest.lastIndexOf(']')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    checkTag(input, tag);
  }
  if (isBareHost(rest, tag)) {
    throw new InvalidReferenceError(
      input,
      'missing repository: this names only a registry host; add /REPOSITORY',
    );
  }
  const name = parseName(input, rest);
  const reference: RegistryReference = { kind: 'registry', ...name };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  if (tag === undefined && digest === undefined) reference.tag = 'latest';
  return reference;
}

/** A repository (`tags REPO`); a tag or digest given with it is accepted and ignored, as crane does. */
export function parseRepositoryName(input: string): RepositoryName {
  const { registry, repository } = parseRegistryReference(input);
  return { registry, repository };
}

/** A registry host (`catalog HOST`, `login HOST`); tolerates a scheme and a path as docker login does. */
export function parseRegistryHost(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '') throw new InvalidReferenceError(input, 'empty registry');
  const withoutScheme = trimmed.replace(/^https?:\/\//i, '');
  const host = withoutScheme.split('/')[0] ?? '';
  if (!validHost(host)) throw new InvalidReferenceError(input, `invalid registry host "${host}"`);
  return normaliseRegistry(host.toLowerCase());
}

/** The host that serves a registry's API: Docker Hub's is not its name. */
export function registryApiHost(registry: string): string {
  return registry === dockerHub ? 'registry-1.docker.io' : registry;
}

/** `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port. */
export function isLoopbackHost(registry: string): boolean {
  const lower = registry.toLowerCase();
  const host = lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : (lower.split(':')[0] ?? '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether `name` is a valid `org.opencontainers.image.ref.name`: `v1`, `localhost:5000/x:tag`. */
export function isLayoutRefName(name: string): boolean {
  return refNamePattern.test(name);
}

function checkLayoutRefName(input: string, name: string): void {
  if (!isLayoutRefName(name)) {
    throw new InvalidReferenceError(
      input,
      `tag "${name}" is invalid (a layout ref name: letters, digits, and . _ - : @ + /)`,
    );
  }
}

/**
 * `C:` alone or before a separator (`C:\\dir`, `C:/dir`): a drive, not a separator. A letter
 * followed by anything else is a one-letter directory and its tag (`oci:a:v1`), as skopeo reads it.
 */
function isDrive(prefix: string, rest: string): boolean {
  return /^[a-zA-Z]$/.test(prefix) && /^(?:[/\\]|$)/.test(rest);
}

/**
 * Splits `PATH:TAG` at the last `:` when what follows is a tag. The `:` stays in the path when it
 * is a drive (`C:`, `C:\\dir`) or when what follows holds a path separator (`/tmp/a:b/c`); any
 * other remainder is a malformed tag and is reported as one.
 */
function splitLayoutTag(input: string, body: string): { path: string; tag?: string } {
  const colon = body.lastIndexOf(':');
  const remainder = body.slice(colon + 1);
  if (colon < 0 || isDrive(body.slice(0, colon), remainder) || /[/\\]/.test(remainder)) return { path: body };
  checkLayoutRefName(input, remainder);
  return { path: body.slice(0, colon), tag: remainder };
}

/**
 * `oci:PATH[:TAG|@DIGEST]`. A digest follows the last `@` when what follows it has a `:`
 * (`algo:hex`); otherwise a tag may follow the last `:` (see splitLayoutTag). Giving both is an
 * error rather than a path that silently ends in `:TAG`.
 */
function parseOciLayout(input: string, body: string): OciLayoutReference {
  const at = body.lastIndexOf('@');
  if (at >= 0 && body.slice(at + 1).includes(':')) {
    const digest = body.slice(at + 1);
    checkDigest(input, digest);
    const path = body.slice(0, at);
    if (path === '') throw new InvalidReferenceError(input, 'missing layout path');
    if (splitLayoutTag(input, path).tag !== undefined)
      throw new InvalidReferenceError(input, 'a layout reference takes a tag or a digest, not both');
    return { kind: 'oci', path, digest };
  }
  const { path, tag } = splitLayoutTag(input, body);
  if (path === '') throw new InvalidReferenceError(input, 'missing layout path');
  return tag === undefined ? { kind: 'oci', path } : { kind: 'oci', path, tag };
}

/**
 * Every reading of an `oci:` reference, longest path first: the whole text as a path, then a split
 * at each `:` whose remainder is a valid layout ref name (the parsed reading is among them). A ref
 * name may hold `:` (podman writes `localhost:5000/x:tag`), so `oci:DIR:localhost:5000/x:tag`
 * cannot be split by its text alone: the caller takes the first reading whose path is an existing
 * directory, and the parsed reading when none is.
 */
export function layoutReadings(ref: OciLayoutReference): OciLayoutReference[] {
  if (ref.digest !== undefined) return [ref];
  const body = ref.tag === undefined ? ref.path : `${ref.path}:${ref.tag}`;
  const readings: OciLayoutReference[] = [{ kind: 'oci', path: body }];
  for (let colon = body.lastIndexOf(':'); colon > 0; colon = body.lastIndexOf(':', colon - 1)) {
    const path = body.slice(0, colon);
    const tag = body.slice(colon + 1);
    if (!isDrive(path, tag) && isLayoutRefName(tag)) readings.push({ kind: 'oci', path, tag });
  }
  return readings;
}

/**
 * `oci-archive:FILE[:REF|@DIGEST]`: FILE up to the first `:` (after a drive), as skopeo and
 * `docker-archive:` read it, so REF may hold `:` and `/`; a digest follows the last `@`.
 */
function parseOciArchive(input: string, body: string): OciArchiveReference {
  const at = body.lastIndexOf('@');
  let digest: string | undefined;
  let rest = body;
  if (at >= 0 && body.slice(at + 1).includes(':')) {
    digest = body.slice(at + 1);
    checkDigest(input, digest);
    rest = body.slice(0, at);
  }
  const colon = rest.indexOf(':', /^[a-zA-Z]:[/\\]/.test(rest) ? 2 : 0);
  const path = colon < 0 ? rest : rest.slice(0, colon);
  if (path === '') throw new InvalidReferenceError(input, 'missing archive file');
  const reference: OciArchiveReference = { kind: 'oci-archive', path };
  if (colon >= 0) {
    if (digest !== undefined)
      throw new InvalidReferenceError(input, 'an archive reference takes a tag or a digest, not both');
    const tag = rest.slice(colon + 1);
    checkLayoutRefName(input, tag);
    reference.tag = tag;
  }
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

/** `docker-archive:FILE[:NAME:TAG]`: FILE up to the first `:`; the rest names an image. */
function parseDockerArchive(input: string, body: string): DockerArchiveReference {
  const colon = body.indexOf(':');
  const path = colon < 0 ? body : body.slice(0, colon);
  if (path === '') throw new InvalidReferenceError(input, 'missing archive file');
  if (colon < 0) return { kind: 'docker-archive', path };
  const image = parseRegistryReference(body.slice(colon + 1));
  if (image.digest)
    throw new InvalidReferenceError(input, 'an archive names its image by NAME:TAG, not by digest');
  return {
    kind: 'docker-archive',
    path,
    imageName: `${image.registry}/${image.repository}:${image.tag ?? 'latest'}`,
  };
}

/** Parses a reference: `host/repo:tag`, `host/repo@digest`, `oci:DIR[:TAG|@DIGEST]`, `docker-archive:FILE[:NAME:TAG]`. */
export function parseReference(input: string): Reference {
  if (input.startsWith('oci:')) return parseOciLayout(input, input.slice('oci:'.length));
  if (input.startsWith('oci-archive:')) return parseOciArchive(input, input.slice('oci-archive:'.length));
  if (input.startsWith('docker-archive:'))
    return parseDockerArchive(input, input.slice('docker-archive:'.length));
  return parseRegistryReference(input);
}

/**
 * `NAME:a,b,c`, oras's form for several tags at once: the reference with the first tag, and every
 * tag (each checked as the grammar of NAME's kind checks one). Without a `,` after the last `:`,
 * the reference as parseReference reads it and no list.
 */
export function parseTagList(input: string): { ref: Reference; tags: string[] } {
  const colon = input.lastIndexOf(':');
  const list = input.slice(colon + 1);
  if (colon < 0 || !list.includes(',') || /[/@]/.test(list)) return { ref: parseReference(input), tags: [] };
  const prefix = input.slice(0, colon);
  const tags = [...new Set(list.split(','))];
  const [ref] = tags.map((tag) => parseReference(`${prefix}:${tag}`));
  return { ref: ref ?? parseReference(input), tags };
}
