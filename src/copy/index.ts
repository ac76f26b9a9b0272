export * from './copy.js';
export * from './limiter.js';
