import { Readable } from 'node:stream';
import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { digestOf, MAX_MANIFEST_BYTES, parseManifest } from '../../oci/index.js';
import type { CliContext } from '../context.js';
import { asUserInput } from '../errors.js';
import { parseTargetReference } from '../reference.js';
import { openWriteTarget } from '../targets.js';

export async function run(
  context: CliContext,
  [input = '', file = '-']: string[],
  options: OptionValues,
): Promise<void> {
  const ref = parseTargetReference(input);
  const bytes = await context.readInputFile(file);
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new UsageError(
      `${file} is ${bytes.byteLength} bytes; manifests are limited to ${MAX_MANIFEST_BYTES} bytes`,
    );
  }
  const { mediaType } = asUserInput(file, () =>
    parseManifest(bytes, options.mediaType as string | undefined),
  );
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (ref.kind !== 'docker-archive' && ref.digest && ref.digest !== descriptor.digest) {
    throw new UsageError(`${file} has digest ${descriptor.digest}, not ${ref.digest}`);
  }
  const target = await openWriteTarget(context, ref);
  const signal = { signal: context.signal };
  await target.push(descriptor, Readable.from([bytes]), signal);
  const tag = ref.kind === 'docker-archive' ? ref.imageName : ref.digest ? undefined : ref.tag;
  if (tag) await target.tag(descriptor, tag, signal);
  context.output.line(descriptor.digest);
}
