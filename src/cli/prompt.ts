import { Writable } from 'node:stream';
import type { Io } from './io.js';

/** Asks on the terminal; a secret is read without echo. */
export async function prompt(io: Io, question: string, secret = false): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) io.stderr.write(chunk);
      done();
    },
  });
  // Loaded on use: only login and a key's password ever ask.
  const { createInterface } = await import('node:readline/promises');
  const reader = createInterface({ input: io.stdin, output, terminal: true });
  try {
    const answer = reader.question(question);
    muted = secret;
    return await answer;
  } finally {
    reader.close();
    if (secret) io.stderr.write('\n');
  }
}
