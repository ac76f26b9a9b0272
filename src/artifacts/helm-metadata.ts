import { parseDocument } from 'yaml';
import { UsageError } from '../errors.js';

/**
 * A chart's metadata as Helm decodes `Chart.yaml` into its `Metadata` type and encodes it as the
 * OCI config: Helm's field names in Helm's order, every value of a string field a string (so
 * `appVersion: 1.16` stays "1.16"), empty fields left out, unknown keys dropped.
 */
export interface HelmMetadata {
  name: string;
  home?: string;
  sources?: string[];
  version: string;
  description?: string;
  keywords?: string[];
  maintainers?: HelmMaintainer[];
  icon?: string;
  apiVersion?: string;
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: HelmDependency[];
  type?: string;
}

export interface HelmMaintainer {
  name?: string;
  email?: string;
  url?: string;
}

/** `name` and `repository` are written even when empty, as Helm writes them. */
export interface HelmDependency {
  name: string;
  version?: string;
  repository: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  'import-values'?: unknown[];
  alias?: string;
}

type Yaml = unknown;

class Fields {
  readonly #file: string;
  readonly #where: string;
  readonly #map: Record<string, Yaml>;

  constructor(file: string, where: string, map: Record<string, Yaml>) {
    this.#file = file;
    this.#where = where;
    this.#map = map;
  }

  #fail(key: string, what: string): never {
    throw new UsageError(`${this.#file}: ${this.#where}${key} must be ${what}`);
  }

  /** A string field; Helm cleans it (whitespace to spaces, unprintable characters removed). */
  string(key: string, clean = true): string | undefined {
    const value = this.#map[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.#fail(key, 'a string');
    const text = clean ? sanitize(value) : value;
    return text === '' ? undefined : text;
  }

  strings(key: string, clean = true): string[] | undefined {
    const value = this.list(key);
    if (!value) return undefined;
    return value.map((item) => {
      if (typeof item !== 'string') this.#fail(key, 'a list of strings');
      return clean ? sanitize(item) : item;
    });
  }

  boolean(key: string): boolean | undefined {
    const value = this.#map[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (/^(true|True|TRUE)$/.test(String(value))) return true;
    if (/^(false|False|FALSE)$/.test(String(value))) return undefined;
    return this.#fail(key, 'true or false');
  }

  list(key: string): Yaml[] | undefined {
    const value = this.#map[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (!Array.isArray(value)) this.#fail(key, 'a list');
    return value.length > 0 ? value : undefined;
  }

  stringMap(key: string): Record<string, string> | undefined {
    const value = this.#map[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (!isMap(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      this.#fail(key, 'a map of strings');
    }
    // Go writes a map's keys sorted.
    const entries = Object.entries(value as Record<string, string>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }

  records(key: string): Fields[] | undefined {
    return this.list(key)?.map((item, index) => {
      if (!isMap(item)) this.#fail(key, 'a list of maps');
      return new Fields(this.#file, `${this.#where}${key}[${index}].`, item);
    });
  }
}

function isMap(value: Yaml): value is Record<string, Yaml> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const space = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu;
const unprintable = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu;

function sanitize(text: string): string {
  return text.replace(space, ' ').replace(unprintable, '');
}

/** Drops the keys whose value is undefined, keeping the order of the rest. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads `Chart.yaml`. The failsafe schema keeps every scalar as the text written, which is
 * what a string field needs; the two boolean fields are read from that text.
 */
export function parseChartYaml(text: string, file: string): HelmMetadata {
  const document = parseDocument(text, { schema: 'failsafe' });
  if (document.errors.length > 0) {
    throw new UsageError(`${file}: Chart.yaml is not valid YAML: ${document.errors[0]?.message ?? ''}`);
  }
  const root: Yaml = document.toJS();
  if (!isMap(root)) throw new UsageError(`${file}: Chart.yaml must be a map`);
  const chart = new Fields(file, '', root);
  const name = chart.string('name');
  const version = chart.string('version');
  if (!name || !version) throw new UsageError(`${file}: Chart.yaml needs a name and a version`);
  return compact<HelmMetadata>({
    name,
    home: chart.string('home'),
    sources: chart.strings('sources'),
    version,
    description: chart.string('description'),
    keywords: chart.strings('keywords'),
    maintainers: chart
      .records('maintainers')
      ?.map((m) =>
        compact<HelmMaintainer>({ name: m.string('name'), email: m.string('email'), url: m.string('url') }),
      ),
    icon: chart.string('icon'),
    // Helm reads a chart without apiVersion as a Helm 2 chart.
    apiVersion: chart.string('apiVersion', false) ?? 'v1',
    condition: chart.string('condition'),
    tags: chart.string('tags'),
    appVersion: chart.string('appVersion'),
    deprecated: chart.boolean('deprecated'),
    annotations: chart.stringMap('annotations'),
    kubeVersion: chart.string('kubeVersion'),
    dependencies: chart.records('dependencies')?.map((d) =>
      compact<HelmDependency>({
        name: d.string('name') ?? '',
        version: d.string('version'),
        repository: d.string('repository') ?? '',
        condition: d.string('condition'),
        tags: d.strings('tags'),
        enabled: d.boolean('enabled'),
        'import-values': d.list('import-values'),
        alias: d.string('alias', false),
      }),
    ),
    type: chart.string('type', false),
  });
}

/** JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
