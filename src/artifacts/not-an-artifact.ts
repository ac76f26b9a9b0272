import { TugError } from '../errors.js';

/** A pull of a container image: it has no named files; it is copied whole instead. */
export class NotAnArtifactError extends TugError {
  constructor(readonly reference: string) {
    super(`${reference} is a container image, not an artifact of named files`, {
      code: 'UNSUPPORTED',
      hint: 'copy it to an OCI layout or a docker-archive instead',
    });
  }
}
