import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { parseRepositoryName } from '../../src/ref/index.js';
import { Repository } from '../../src/registry/repository.js';
import { addToReferrersTag, referrersTag } from '../../src/targets/referrers-tag.js';
import { RegistryTarget } from '../../src/targets/registry.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';

const baseUrl = new URL('https://registry.example.com');
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function answer(
  request: HttpRequest,
  status: number,
  headers: HttpResponse['headers'] = {},
  body: Uint8Array = new Uint8Array(0),
) {
  return { status, headers, body: Readable.from([body]), url: request.url };
}

/**
 * A registry without the referrers API that honours If-Match / If-None-Match on one tag, as
 * RFC 9110 says, and records every request. `beforeConditionalPut` runs once, just before the
 * first conditional PUT is judged: another writer moving the tag in the race window.
 */
function conditionalRegistry(beforeConditionalPut?: (move: (bytes: Buffer) => void) => void) {
  const requests: HttpRequest[] = [];
  const manifests = new Map<string, Buffer>();
  let tagged: { bytes: Buffer; etag: string } | undefined;
  let raced = false;
  const move = (bytes: Buffer) => {
    manifests.set(digestOf(bytes), bytes);
    tagged = { bytes, etag: `"${digestOf(bytes)}"` };
  };
  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    requests.push(request);
    const reference = decodeURIComponent(request.url.pathname.split('/manifests/')[1] ?? '');
    const isTag = !reference.includes(':');
    if (request.method === 'GET' || request.method === 'HEAD') {
      const bytes = isTag ? tagged?.bytes : manifests.get(reference);
      if (!bytes) return answer(request, 404);
      const headers = {
        'content-type': MediaType.ociIndex,
        'content-length': String(bytes.length),
        'docker-content-digest': digestOf(bytes),
        ...(isTag && tagged ? { etag: tagged.etag } : {}),
      };
      return answer(request, 200, headers, request.method === 'GET' ? bytes : Buffer.alloc(0));
    }
    const bytes = Buffer.from(request.body as Uint8Array);
    if (!isTag) {
      manifests.set(reference, bytes);
      return answer(request, 201, { 'docker-content-digest': digestOf(bytes) });
    }
    if (!raced && beforeConditionalPut) {
      raced = true;
      beforeConditionalPut(move);
    }
    const ifMatch = request.headers?.['if-match'];
    const ifNoneMatch = request.headers?.['if-none-match'];
    if ((ifMatch !== undefined && ifMatch !== tagged?.etag) || (ifNoneMatch === '*' && tagged)) {
      return answer(request, 412);
    }
    move(bytes);
    return answer(request, 201, { 'docker-content-digest': digestOf(bytes) });
  };
  const repository = new Repository(parseRepositoryName('registry.example.com/app'), async () => ({
    send,
    baseUrl,
  }));
  return { target: new RegistryTarget(repository), requests, current: () => tagged, move };
}

function indexOf(manifests: Descriptor[]): Buffer {
  return json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
}

function descriptorOf(bytes: Buffer): Descriptor {
  return { mediaType: MediaType.ociIndex, digest: digestOf(bytes), size: bytes.length };
}

const subject: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(json({ s: 1 })), size: 7 };
const referrer = (n: number): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: digestOf(json({ referrer: n })),
  size: 20,
  artifactType: 'application/example',
});

const tagPuts = (requests: HttpRequest[], tag: string) =>
  requests.filter(
    (request) => request.method === 'PUT' && request.url.pathname.endsWith(`/manifests/${tag}`),
  );

describe('moving the referrers tag with preconditions', () => {
  it('sends the ETag it read as If-Match, and says the tag moved when the registry answers 412', async () => {
    const { target, requests, move } = conditionalRegistry();
    const tag = referrersTag(subject);
    move(indexOf([referrer(1)]));
    const state = await target.readTag(tag);
    expect(state?.version).toBe(`"${digestOf(indexOf([referrer(1)]))}"`);
    const next = indexOf([referrer(1), referrer(2)]);
    await target.push(descriptorOf(next), Readable.from([next]));
    move(indexOf([referrer(3)]));
    expect(await target.tagIf(descriptorOf(next), tag, state)).toBe(false);
    const [put] = tagPuts(requests, tag);
    expect(put?.headers?.['if-match']).toBe(state?.version);
  });

  it('sends If-None-Match: * for a tag that did not exist, and stores it when nobody created it', async () => {
    const { target, requests, current } = conditionalRegistry();
    const tag = referrersTag(subject);
    const next = indexOf([referrer(1)]);
    await target.push(descriptorOf(next), Readable.from([next]));
    expect(await target.tagIf(descriptorOf(next), tag, undefined)).toBe(true);
    expect(tagPuts(requests, tag)[0]?.headers?.['if-none-match']).toBe('*');
    expect(current()?.bytes.equals(next)).toBe(true);
  });

  it('re-reads and retries after a 412, so the entry of the writer that won is kept', async () => {
    const { target, requests, current } = conditionalRegistry((move) => move(indexOf([referrer(9)])));
    await addToReferrersTag(target, subject, referrer(1));
    const kept = JSON.parse(current()?.bytes.toString() ?? '{}') as { manifests: Descriptor[] };
    expect(kept.manifests.map((entry) => entry.digest)).toEqual([referrer(9).digest, referrer(1).digest]);
    const puts = tagPuts(requests, referrersTag(subject));
    expect(puts).toHaveLength(2);
    expect(puts[0]?.headers?.['if-none-match']).toBe('*');
    expect(puts[1]?.headers?.['if-match']).toBe(`"${digestOf(indexOf([referrer(9)]))}"`);
  });
});
