import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { escapeControl } from '../../src/cli/format.js';
import type { Io } from '../../src/cli/io.js';
import { Output } from '../../src/cli/output.js';

describe('escapeControl shows control characters from a server as escapes', () => {
  it.each([
    ['plain text and Unicode stay as they are', 'app:v1 – ünïcode ✓', 'app:v1 – ünïcode ✓'],
    ['a newline cannot start a forged line', 'title\nsha256:forged', 'title\\nsha256:forged'],
    ['carriage return and tab', 'a\rb\tc', 'a\\rb\\tc'],
    [
      'an ESC sequence never reaches the terminal',
      '\u001b[2J\u001b]0;pwned\u0007',
      '\\x1b[2J\\x1b]0;pwned\\x07',
    ],
    ['NUL and DEL', 'a\u0000b\u007f', 'a\\x00b\\x7f'],
    ['a C1 CSI', 'a\u009b31m', 'a\\x9b31m'],
    ['bidirectional overrides and isolates', 'exe.\u202etxt\u2066', 'exe.\\u202etxt\\u2066'],
  ])('%s', (_name, input, expected) => {
    expect(escapeControl(input)).toBe(expected);
  });
});

function capture(): { io: Io; stdout: () => string; stderr: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  err.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  const io = { stdin: new PassThrough(), stdout: out, stderr: err, env: { NO_COLOR: '1' } } as unknown as Io;
  return {
    io,
    stdout: () => Buffer.concat(chunks.out).toString(),
    stderr: () => Buffer.concat(chunks.err).toString(),
  };
}

describe('every line Output prints is one line', () => {
  it('escapes data lines, labelled lines, info, warnings, errors, hints and traces', () => {
    const { io, stdout, stderr } = capture();
    const output = new Output(io, { json: false, quiet: false, verbose: true });
    const hostile = 'x\ny\u001b[31m';
    output.line(hostile);
    output.labelled('Title: ', hostile);
    output.info(hostile);
    output.warn(hostile);
    output.error(hostile, hostile);
    output.trace(hostile);
    expect(stdout()).toBe('x\\ny\\x1b[31m\nTitle: x\\ny\\x1b[31m\n');
    expect(stderr().split('\n')).toEqual([
      'x\\ny\\x1b[31m',
      'warning: x\\ny\\x1b[31m',
      'error: x\\ny\\x1b[31m',
      'hint: x\\ny\\x1b[31m',
      'x\\ny\\x1b[31m',
      '',
    ]);
  });

  it('passes exact bytes and JSON through untouched', () => {
    const { io, stdout } = capture();
    const output = new Output(io, { json: true, quiet: false, verbose: false });
    output.bytes(Buffer.from('a\nb'));
    output.json({ title: 'a\nb\u001b' });
    expect(stdout()).toBe('a\nb{\n  "title": "a\\nb\\u001b"\n}\n');
  });
});
