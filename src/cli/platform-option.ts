import { UsageError } from '../errors.js';
import { parsePlatform } from '../oci/index.js';
import type { Platform } from '../oci/types.js';

/** `--platform` for commands that read one manifest: at most one value. */
export function singlePlatform(values: string[] | undefined): Platform | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new UsageError('this command takes one --platform');
  return parsePlatform(values[0] ?? '');
}
