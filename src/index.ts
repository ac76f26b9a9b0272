/** tug as a library: the typed registry client, Targets, and the one graph copy. */
export * from './artifacts/annotations.js';
export * from './artifacts/artifact-manifest.js';
export * from './artifacts/extract.js';
export * from './artifacts/file-source.js';
export * from './artifacts/file-target.js';
export * from './artifacts/helm.js';
export * from './artifacts/index-builder.js';
export * from './artifacts/pack.js';
export * from './artifacts/prepare.js';
export * from './artifacts/referrers.js';
export * from './artifacts/safe-path.js';
export * from './auth/index.js';
export * from './copy/index.js';
export * from './errors.js';
export * from './oci/index.js';
export * from './oci/summary.js';
export * from './ref/index.js';
export * from './registry/client.js';
export * from './registry/errors.js';
export * from './registry/repository.js';
export * from './targets/docker-archive.js';
export * from './targets/memory.js';
export * from './targets/oci-layout.js';
export * from './targets/platform.js';
export * from './targets/referrers-tag.js';
export * from './targets/registry.js';
export * from './targets/target.js';
export { createTransport, defaultTimeouts, type Transport } from './transport/index.js';
export type {
  HttpRequest,
  HttpResponse,
  RequestBody,
  RetryPolicy,
  Send,
  Timeouts,
  TransportOptions,
} from './transport/types.js';
