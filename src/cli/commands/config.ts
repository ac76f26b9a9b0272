import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { isIndex, parseManifest } from '../../oci/index.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';

/** Without --platform, an index is read for linux/amd64, as crane does. */
const defaultPlatform = { os: 'linux', architecture: 'amd64' };

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const platform = singlePlatform(options.platform as string[]) ?? defaultPlatform;
  const { target, descriptor } = await resolveReference(context, input, platform, { readsManifest: true });
  const signal = { signal: context.signal };
  const { manifest } = parseManifest(await target.fetchBytes(descriptor, signal), descriptor.mediaType);
  if (isIndex(manifest)) throw new UsageError(`${input} is an index of indexes; name one manifest by digest`);
  const config = await target.fetchBytes(manifest.config, signal);
  context.output.bytes(config);
  // The exact bytes, then a newline when they lack one, so the shell prompt starts on its own line.
  if (config.at(-1) !== 0x0a) context.output.line();
}
