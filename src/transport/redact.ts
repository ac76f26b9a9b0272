export const redacted = '***';

const secretHeaders = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-registry-auth',
]);
const secretWords = /token|secret|password|signature|credential/i;

/** Query parameters of presigned URLs (S3, GCS, Azure SAS, CloudFront) and OAuth-style secrets. */
const secretQueryNames = new Set([
  'sig',
  'signature',
  'code',
  'key',
  'api_key',
  'apikey',
  'auth',
  'expires',
  'policy',
  'key-pair-id',
  'googleaccessid',
  'se',
  'sp',
  'sv',
  'skoid',
  'sktid',
  'skt',
  'ske',
  'sks',
  'skv',
]);
const secretJsonFields =
  'token|access_token|refresh_token|id_token|identitytoken|password|secret|client_secret|auth';
const secretJsonValue = new RegExp(`"(${secretJsonFields})"(\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const secretFormValue = new RegExp(`(^|[?&\\s])(${secretJsonFields})=[^&\\s]*`, 'gi');

function isSecretHeader(lowerName: string): boolean {
  return secretHeaders.has(lowerName) || /token|secret|key|password|session|credential/.test(lowerName);
}

function isSecretQuery(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    secretQueryNames.has(lower) ||
    secretWords.test(lower) ||
    lower.startsWith('x-amz-') ||
    lower.startsWith('x-goog-')
  );
}

/** Header values that carry secrets are replaced; names stay, so a trace still explains itself. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (isSecretHeader(lower)) out[lower] = redacted;
    else if (lower === 'location' || lower === 'link' || lower === 'content-location')
      out[lower] = redactUrlsIn(text);
    else out[lower] = text;
  }
  return out;
}

/** Hides URL userinfo and the values of query parameters that sign or authorise (presigned URLs). */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return '<invalid URL>';
  }
  if (parsed.username) parsed.username = redacted;
  if (parsed.password) parsed.password = redacted;
  for (const name of new Set(parsed.searchParams.keys())) {
    if (isSecretQuery(name)) parsed.searchParams.set(name, redacted);
  }
  return parsed.href;
}

/** Redacts every absolute URL inside a header value (Location, Link); a relative one keeps its query hidden too. */
function redactUrlsIn(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim()) && !text.includes('<')) {
    return redactRelative(text);
  }
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s<>",]+/gi, (url) => redactUrl(url));
}

function redactRelative(text: string): string {
  const base = 'http://relative.invalid';
  const redactedUrl = redactUrl(new URL(text, base));
  return redactedUrl.startsWith(base) ? redactedUrl.slice(base.length) : redactedUrl;
}

/** Hides secret values in a JSON or form-encoded text (a token response, an OAuth2 request body). */
export function redactText(text: string): string {
  return text
    .replace(secretJsonValue, (_match, field: string, colon: string) => `"${field}"${colon}"${redacted}"`)
    .replace(secretFormValue, (_match, lead: string, field: string) => `${lead}${field}=${redacted}`);
}
