const secretHeaders = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-registry-auth',
]);
const secretQuery =
  /^(x-amz-signature|x-amz-credential|x-amz-security-token|sig|signature|token|access_token|refresh_token|code|password|se|sp|sv|skoid|sktid|skt|ske|sks|skv|x-goog-signature|x-goog-credential|googleaccessid|key-pair-id|policy)$/i;
const secretJsonField =
  /"(token|access_token|refresh_token|password|identitytoken|secret|auth)"\s*:\s*"[^"]*"/gi;

export const redacted = '***';

/** Header values that carry secrets are replaced; names stay so the trace still explains itself. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const secret = secretHeaders.has(lower) || lower.includes('token') || lower.includes('secret');
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[lower] = secret ? redacted : lower === 'location' || lower === 'link' ? redactUrlsIn(text) : text;
  }
  return out;
}

/** Hides URL userinfo and the values of query parameters that sign or authorise (presigned URLs). */
export function redactUrl(url: URL | string): string {
  const parsed = new URL(url.toString());
  if (parsed.username) parsed.username = redacted;
  if (parsed.password) parsed.password = redacted;
  for (const key of [...parsed.searchParams.keys()]) {
    if (secretQuery.test(key)) parsed.searchParams.set(key, redacted);
  }
  return parsed.toString();
}

/** Redacts every absolute URL inside a header value (Location, Link). */
function redactUrlsIn(text: string): string {
  return text.replace(/https?:\/\/[^\s<>",]+/g, (url) => {
    try {
      return redactUrl(url);
    } catch {
      return url;
    }
  });
}

/** Hides secret values in a JSON text (a token response, a credential helper's answer). */
export function redactText(text: string): string {
  return text.replace(secretJsonField, (_match, field: string) => `"${field}":"${redacted}"`);
}
