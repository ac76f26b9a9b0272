import type { OptionValues } from 'commander';
import { attachArtifact } from '../../artifacts/attach.js';
import { parseFileSpec, prepareArtifact } from '../../artifacts/prepare.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { resolveReference } from '../resolve.js';
import { openWriteTarget } from '../targets.js';
import { readAnnotations } from './push.js';

export async function run(
  context: CliContext,
  [input = '', ...files]: string[],
  options: OptionValues,
): Promise<void> {
  const { ref, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
  );
  const subject = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  const prepared = await prepareArtifact({
    files: files.map(parseFileSpec),
    artifactType: options.artifactType as string,
    annotations: await readAnnotations(options),
    subject,
    stdin: context.io.stdin,
    stdinName: options.stdinName as string,
  });
  try {
    const destination = await openWriteTarget(context, ref);
    const { manifest } = prepared;
    await attachArtifact(destination, subject, prepared, {
      concurrency: context.options.concurrency,
      signal: context.signal,
    });
    context.output.info(`attached ${manifest.descriptor.digest} to ${subject.digest}`);
    context.output.line(manifest.descriptor.digest);
  } finally {
    await prepared.cleanup();
  }
}
