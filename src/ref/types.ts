/** A repository in a registry: `registry` as the user names it (normalised), `repository` its path. */
export interface RepositoryName {
  /** `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000` (Docker Hub is always `docker.io`). */
  registry: string;
  /** `library/alpine`, `org/team/app`. */
  repository: string;
}

/** `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`. With neither tag nor digest, the parser sets tag `latest`. */
export interface RegistryReference extends RepositoryName {
  kind: 'registry';
  tag?: string;
  digest?: string;
}

/**
 * `oci:PATH[:TAG|@DIGEST]`: an OCI image layout directory. `tag` is a layout ref name
 * (`org.opencontainers.image.ref.name`), which may hold `:` and `/` once the path is settled
 * against the filesystem (see layoutSplits).
 */
export interface OciLayoutReference {
  kind: 'oci';
  path: string;
  tag?: string;
  digest?: string;
}

/** `docker-archive:FILE[:NAME:TAG]`: a `docker save` tarball, optionally naming one image in it. */
export interface DockerArchiveReference {
  kind: 'docker-archive';
  path: string;
  /** The image name inside the archive, `NAME:TAG` normalised (e.g. `docker.io/library/alpine:3.20`). */
  imageName?: string;
}

/**
 * `oci-archive:FILE[:REF|@DIGEST]`: a tarred OCI layout (`podman save --format oci-archive`, skopeo's
 * `oci-archive:`). FILE runs to the first `:`, as skopeo reads it; REF is a layout ref name and may
 * itself hold `:` and `/` (`localhost:5000/x:tag`).
 */
export interface OciArchiveReference {
  kind: 'oci-archive';
  path: string;
  tag?: string;
  digest?: string;
}

/** What a reference names: a registry repository, an OCI layout or archive, or a docker-archive. */
export type Reference = RegistryReference | OciLayoutReference | OciArchiveReference | DockerArchiveReference;
