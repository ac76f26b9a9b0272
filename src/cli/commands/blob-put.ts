import { createReadStream } from 'node:fs';
import { describeFile, spoolToFile } from '../../artifacts/file-blob.js';
import { parseRepositoryName } from '../../ref/index.js';
import type { CliContext } from '../context.js';

const octetStream = 'application/octet-stream';

export async function run(context: CliContext, [input = '', file = '-']: string[]): Promise<void> {
  const repository = (await context.registry()).repository(parseRepositoryName(input));
  const spooled = file === '-' ? await spoolToFile(context.io.stdin, octetStream) : undefined;
  try {
    const path = spooled?.path ?? file;
    const descriptor = spooled?.descriptor ?? (await describeFile(path, octetStream));
    await repository.pushBlob(
      descriptor,
      {
        kind: 'replayable',
        open: () => createReadStream(path),
        length: descriptor.size,
      },
      { signal: context.signal },
    );
    context.output.line(descriptor.digest);
  } finally {
    await spooled?.remove();
  }
}
