/**
 * tug as a library. Most programs need only {@link Client} and {@link isTugError}; the Targets
 * (registry repository, OCI layout, docker-archive, memory) and the one graph copy under it stay
 * available for those who need them. Every export is named here on purpose: a test holds the list.
 *
 * @packageDocumentation
 */

export { Annotation } from './artifacts/annotations.js';
export type { BuiltManifest } from './artifacts/artifact-manifest.js';
export { attachArtifact } from './artifacts/attach.js';
export type { ExtractLimits } from './artifacts/extract.js';
export type { FileSource } from './artifacts/file-source.js';
export type { FileTargetOptions, PulledFile } from './artifacts/file-target.js';
export {
  type AnnotationSet,
  type ArtifactInput,
  type FileSpec,
  type PreparedArtifact,
  prepareArtifact,
} from './artifacts/prepare.js';
export { type PullOptions, type PullResult, pullFiles } from './artifacts/pull.js';
export { copyWithReferrers, listReferrers } from './artifacts/referrers.js';
export type { Keychain } from './auth/credentials/keychain.js';
export { type CredentialOptions, createCredentialLookup } from './auth/credentials/lookup.js';
export type { Credential, CredentialLookup } from './auth/types.js';
export {
  Client,
  type ClientCopyOptions,
  type ClientOptions,
  type ManifestContent,
  type ProgressEvent,
  type PullFilesOptions,
  type PushFile,
  type PushOptions,
  type ReadOptions,
  type TransferOptions,
  type TransferResult,
} from './client.js';
export {
  type CopyEvents,
  type CopyOptions,
  type CopyOutcome,
  type CopyResult,
  copyGraph,
} from './copy/copy.js';
export { CopyError, type CopySide } from './copy/copy-error.js';
export { type CopyImageOptions, type CopyImageResult, copyImage } from './copy/image.js';
export type { GraphCopier, PlatformCopyResult } from './copy/platforms.js';
export {
  AbortedError,
  AuthError,
  DigestMismatchError,
  type ErrorCode,
  ErrorCodes,
  findTugError,
  InterruptedError,
  InvalidContentError,
  InvalidReferenceError,
  isTugError,
  NotFoundError,
  SizeLimitError,
  TransportError,
  TugError,
  type TugErrorOptions,
  UsageError,
} from './errors.js';
export { type DigestAlgorithm, digestOf } from './oci/digest.js';
export { isIndex, type ParsedManifest, parseManifest } from './oci/manifest.js';
export { MAX_MANIFEST_BYTES, MediaType } from './oci/media-types.js';
export { formatPlatform, parsePlatform } from './oci/platform.js';
export type { Descriptor, ImageIndex, ImageManifest, Manifest, Platform } from './oci/types.js';
export { formatReference } from './ref/format.js';
export { parseReference } from './ref/parse.js';
export type {
  DockerArchiveReference,
  OciArchiveReference,
  OciLayoutReference,
  Reference,
  RegistryReference,
  RepositoryName,
} from './ref/types.js';
export { RegistryClient, type RegistryClientOptions } from './registry/client.js';
export { RegistryError, type RegistryErrorDetail } from './registry/errors.js';
export type { PushedManifest, Repository, RepositoryOptions } from './registry/repository.js';
export type { BlobUpload } from './registry/upload.js';
export type { SignalOptions } from './signal.js';
export type { TarFile } from './targets/archive/tar-index.js';
export type {
  ArchiveImage,
  DockerArchiveOptions,
  DockerArchiveReader,
  DockerArchiveTarget,
  DockerArchiveWriter,
} from './targets/docker-archive.js';
export { openDockerArchive } from './targets/docker-archive.js';
export { MemoryTarget } from './targets/memory.js';
export { type OciLayoutOptions, type OciLayoutTarget, openOciLayout } from './targets/oci-layout.js';
export {
  type OpenTargetOptions,
  openReadTarget,
  openWriteTarget,
  type RegistryClientFactory,
  targetReference,
} from './targets/open.js';
export { selectPlatform } from './targets/platform.js';
export { RegistryTarget } from './targets/registry.js';
export type {
  Closable,
  ConditionalTagger,
  Connector,
  DiskWriter,
  ManifestDeleter,
  Mounter,
  OpenedUpload,
  ReadTarget,
  ReferenceFetcher,
  ReferencePusher,
  ReferrerFinder,
  ReferrersIndexer,
  TagLister,
  TagState,
  Untagger,
  UploadOpener,
  WriteTarget,
} from './targets/target.js';
export { createTransport, type Transport } from './transport/index.js';
export { NetworkError, type NetworkFailure } from './transport/network-error.js';
export type {
  BodyPace,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  RequestBody,
  RetryPolicy,
  Send,
  Sleep,
  Timeouts,
  TransportOptions,
} from './transport/types.js';
