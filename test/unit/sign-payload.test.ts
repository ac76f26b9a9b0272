import { describe, expect, it } from 'vitest';
import { parseClaims, parseSimpleSigningPayload, simpleSigningPayload } from '../../src/sign/payload.js';

const digest = `sha256:${'b'.repeat(64)}`;

describe('the simple-signing payload', () => {
  it('writes the keys in the order cosign writes them, with optional null when there are no claims', () => {
    expect(Buffer.from(simpleSigningPayload('registry.example/app', digest)).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it('reads back the digest it names, and refuses another type or a missing digest', () => {
    const payload = simpleSigningPayload('r/a', digest, { env: 'prod' });
    expect(parseSimpleSigningPayload(payload).critical.image['docker-manifest-digest']).toBe(digest);
    expect(parseSimpleSigningPayload(payload).optional).toEqual({ env: 'prod' });
    const other = Buffer.from(payload).toString().replace('cosign container image signature', 'atomic');
    expect(() => parseSimpleSigningPayload(Buffer.from(other))).toThrow(/cosign container image signature/);
    expect(() => parseSimpleSigningPayload(Buffer.from('{"critical":{}}'))).toThrow(
      /naming a manifest digest/,
    );
    expect(() => parseSimpleSigningPayload(Buffer.from('not json'))).toThrow(/not JSON/);
  });

  it('takes -a claims as KEY=VALUE, keeping = inside the value', () => {
    expect(parseClaims(['a=1', 'b=x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseClaims(['novalue'])).toThrow(/KEY=VALUE/);
    expect(() => parseClaims(['=v'])).toThrow(/KEY=VALUE/);
  });
});
