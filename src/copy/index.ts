export * from './copy.js';
export { CopyError, type CopySide } from './copy-error.js';
export * from './limiter.js';
