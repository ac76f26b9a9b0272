import { TugError } from '../errors.js';

/** No signature of an image verifies with the given key; the message says why in one line. Exit 1. */
export class SignatureVerificationError extends TugError {}
