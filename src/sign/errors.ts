import { TugError, type TugErrorOptions } from '../errors.js';

/** No signature of an image verifies with the given key; the message says why in one line. */
export class SignatureVerificationError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'UNVERIFIED', ...options });
  }
}
