import { TugError, type TugErrorOptions } from '../errors.js';
import type { Challenge } from './types.js';

const token = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/;
const parameterStart = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/;

class ChallengeSyntaxError extends TugError {
  constructor(message: string, options: TugErrorOptions) {
    super(message, { code: 'SERVER', ...options });
  }
}

function fail(header: string, why: string): never {
  throw new ChallengeSyntaxError(`cannot parse WWW-Authenticate challenge: ${why}`, {
    hint: `the registry sent: ${header.slice(0, 200)}`,
  });
}

/** Reads a quoted-string starting at `text[0] === '"'`; returns the value and what was consumed. */
function quoted(text: string, header: string): [string, number] {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') {
      i += 1;
      if (i >= text.length) break;
      value += text[i];
    } else if (char === '"') {
      return [value, i + 1];
    } else {
      value += char;
    }
  }
  return fail(header, 'unterminated quoted string');
}

function parseOne(header: string): Array<{ scheme: string; params: Record<string, string> }> {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  let rest = header.trim();
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    if (rest.length === 0) break;
    const scheme = token.exec(rest)?.[0];
    if (!scheme) return fail(header, `unexpected "${rest.slice(0, 20)}"`);
    rest = rest.slice(scheme.length).replace(/^\s+/, '');
    const params: Record<string, string> = {};
    for (;;) {
      const start = parameterStart.exec(rest);
      if (!start) break;
      const name = (start[1] ?? '').toLowerCase();
      rest = rest.slice(start[0].length);
      let value: string;
      if (rest.startsWith('"')) {
        const [text, consumed] = quoted(rest, header);
        value = text;
        rest = rest.slice(consumed);
      } else {
        // Strictly a token, but registries send unquoted URLs: read to the next comma or space.
        value = /^[^,\s]*/.exec(rest)?.[0] ?? '';
        rest = rest.slice(value.length);
      }
      params[name] = value;
      rest = rest.replace(/^\s+/, '');
      if (!rest.startsWith(',')) break;
      // RFC 7235 lists allow empty elements: `a=1, , b=2`.
      const afterComma = rest.slice(1).replace(/^[\s,]+/, '');
      if (!parameterStart.test(afterComma)) break;
      rest = afterComma;
    }
    if (rest.length > 0 && !rest.startsWith(',')) return fail(header, `unexpected "${rest.slice(0, 20)}"`);
    challenges.push({ scheme: scheme.toLowerCase(), params });
  }
  return challenges;
}

/** Every challenge of one or more WWW-Authenticate headers, Bearer and Basic understood. */
export function parseChallenges(header: string | string[]): Challenge[] {
  const headers = Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  for (const line of headers) {
    for (const { scheme, params } of parseOne(line)) {
      if (scheme === 'bearer') {
        if (!params.realm) fail(line, 'Bearer challenge without a realm');
        challenges.push({
          scheme: 'bearer',
          realm: params.realm ?? '',
          ...(params.service !== undefined ? { service: params.service } : {}),
          scopes: (params.scope ?? '').split(' ').filter(Boolean),
          ...(params.error !== undefined ? { error: params.error } : {}),
        });
      } else if (scheme === 'basic') {
        challenges.push({ scheme: 'basic', ...(params.realm !== undefined ? { realm: params.realm } : {}) });
      }
    }
  }
  return challenges;
}

/** `repository:a/b:pull,push` → resource `repository:a/b` and its actions. */
export function parseScope(scope: string): { resource: string; actions: string[] } {
  const colon = scope.lastIndexOf(':');
  if (colon <= 0) return { resource: scope, actions: [] };
  return {
    resource: scope.slice(0, colon),
    actions: scope
      .slice(colon + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** The union of two scope lists, actions merged per resource, sorted: the token cache key. */
export function mergeScopes(...lists: ReadonlyArray<readonly string[]>): string[] {
  const resources = new Map<string, Set<string>>();
  for (const scope of lists.flat()) {
    const { resource, actions } = parseScope(scope);
    const set = resources.get(resource) ?? new Set<string>();
    for (const action of actions) set.add(action);
    resources.set(resource, set);
  }
  return [...resources.entries()]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .sort();
}
