/** Annotation keys that tug writes and reads on artifacts (the image-spec's and oras's). */
export const Annotation = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  /** oras: the layer is a directory packed as tar+gzip, to be unpacked on pull. */
  unpack: 'io.deis.oras.content.unpack',
  /** oras: the digest of the uncompressed tar of a packed directory. */
  contentDigest: 'io.deis.oras.content.digest',
} as const;
