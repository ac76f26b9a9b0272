export * from './copy.js';
export { CopyError, type CopySide } from './copy-error.js';
export { copyDigestTags, digestTagSubjects, digestTagsOf } from './digest-tags.js';
export { DEFAULT_MAX_NODES, GraphLimitError, NodeBudget } from './graph-limit.js';
export { type CopyImageOptions, type CopyImageResult, copyImage } from './image.js';
export * from './limiter.js';
export * from './platforms.js';
