import { InvalidContentError } from '../errors.js';

/** The `critical.type` of cosign's simple-signing payload for an image signature. */
export const signatureType = 'cosign container image signature';

/** cosign's (and containers/image's) simple-signing payload: what a classic signature signs. */
export interface SimpleSigningPayload {
  critical: {
    /** Unchecked when parsed: whether it names the right repository is the verifier's question. */
    identity?: { 'docker-reference'?: unknown };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, string> | null;
}

/** The payload for `digest` in `repository`, its keys in the order cosign writes them. */
export function simpleSigningPayload(
  repository: string,
  digest: string,
  optional: Record<string, string> = {},
): Uint8Array {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { 'docker-reference': repository },
      image: { 'docker-manifest-digest': digest },
      type: signatureType,
    },
    optional: Object.keys(optional).length > 0 ? optional : null,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Parses a payload and checks its shape; the digest it names is the caller's to compare. */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidContentError('the signed payload is not JSON');
  }
  const critical = (value as Partial<SimpleSigningPayload> | null)?.critical;
  const digest = critical?.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || critical?.type !== signatureType) {
    throw new InvalidContentError(`the signed payload is not a "${signatureType}" naming a manifest digest`);
  }
  return value as SimpleSigningPayload;
}

/** `-a KEY=VALUE` claims for the payload's `optional` section. */
export function parseClaims(pairs: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new InvalidContentError(`annotation "${pair}" is not KEY=VALUE`);
    claims[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return claims;
}
