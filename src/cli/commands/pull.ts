import type { OptionValues } from 'commander';
import { pullFiles } from '../../artifacts/pull.js';
import { formatReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { singlePlatform } from '../platform-option.js';
import { CopyProgress } from '../progress.js';
import { resolveReference } from '../resolve.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const { ref, target, descriptor } = await resolveReference(
    context,
    input,
    singlePlatform(options.platform as string[]),
    { readsManifest: true },
  );
  const progress = new CopyProgress(context);
  await progress.start('pulling');
  const { files, copy } = await pullFiles(target, descriptor, {
    output: options.output as string,
    reference: formatReference(ref),
    keepOldFiles: options.keepOldFiles === true,
    allowPathTraversal: options.allowPathTraversal === true,
    warn: (message) => context.output.warn(message),
    limits: {
      ...(options.maxUnpackSize ? { maxBytes: options.maxUnpackSize as number } : {}),
      ...(options.maxUnpackRatio ? { maxRatio: options.maxUnpackRatio as number } : {}),
    },
    concurrency: context.options.concurrency,
    signal: context.signal,
    events: progress.events,
  });
  progress.finish(
    copy,
    'pulled',
    `${files.length} ${files.length === 1 ? 'file' : 'files'} written to ${options.output as string}`,
  );
  if (context.output.options.json) {
    context.output.json({
      digest: descriptor.digest,
      files: files.map(({ path, descriptor }) => ({ path, ...descriptor })),
    });
    return;
  }
  for (const file of files) context.output.line(file.path);
}
