import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, invokedCommand } from '../../src/cli/program.js';

function helpOf(...path: string[]): string {
  let command: Command = buildProgram('0.0.0', async () => {});
  for (const name of path) {
    const next = command.commands.find((child) => child.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    command = next;
  }
  return command.helpInformation();
}

const sideFlags = [
  'username',
  'password',
  'password-stdin',
  'plain-http',
  'insecure',
  'ca-file',
  'cert-file',
  'key-file',
];

describe("each command's help lists the options it uses", () => {
  it('login shows -u, -p, --password-stdin and the TLS options', () => {
    const help = helpOf('login');
    for (const flag of ['-u, --username', '-p, --password', '--password-stdin', '--ca-file', '--insecure']) {
      expect(help).toContain(flag);
    }
  });

  it.each([[['cp']], [['index', 'create']]])('%j shows every --from- and --to- option', (path) => {
    const help = helpOf(...path);
    for (const side of ['from', 'to']) {
      for (const flag of sideFlags) expect(help).toMatch(new RegExp(`--${side}-${flag}\\b`));
    }
    expect(help).toContain('-u, --username');
  });

  it('cp shows the transfer options; tags does not', () => {
    expect(helpOf('cp')).toContain('--concurrency');
    expect(helpOf('tags')).not.toContain('--concurrency');
    expect(helpOf('tags')).toContain('--password-stdin');
  });

  it('logout, which talks to no registry, shows no credential or TLS option', () => {
    const help = helpOf('logout');
    expect(help).toContain('--registry-config');
    expect(help).not.toContain('--username');
    expect(help).not.toContain('--insecure');
  });

  it('digest offers no --from- option: it reads one registry', () => {
    expect(helpOf('digest')).not.toContain('--from-');
  });
});

/** Every command's path in the tree, with its help text. */
function helpTexts(command: Command, path: string[] = []): Array<[string, string]> {
  return [
    [path.join(' '), command.helpInformation()],
    ...command.commands.flatMap((child) => helpTexts(child, [...path, child.name()])),
  ];
}

describe('a program built for the command argv names', () => {
  const whole = buildProgram('0.0.0', async () => {});

  // completion's script lists every command: it is built whole (below).
  const names = whole.commands
    .flatMap((command) => [command.name(), ...command.aliases()])
    .filter((name) => name !== 'completion');

  it.each(names)('gives %s the same help as the whole program', (name) => {
    const only = buildProgram('0.0.0', async () => {}, name);
    const canonical = whole.commands.find(
      (command) => command.name() === name || command.aliases().includes(name),
    );
    expect(only.commands.map((command) => command.name())).toEqual([canonical?.name()]);
    expect(helpTexts(only.commands[0]!)).toEqual(helpTexts(canonical!));
  });

  it('is built whole for completion, whose script lists every command', () => {
    expect(buildProgram('0.0.0', async () => {}, 'completion').commands).toHaveLength(whole.commands.length);
  });

  it('is built whole for a name that is not a command, so commander can say what it means', () => {
    expect(buildProgram('0.0.0', async () => {}, 'dgest').commands).toHaveLength(whole.commands.length);
  });
});

describe('the command argv names', () => {
  it.each([
    [['cp', 'a', 'b'], 'cp'],
    [['-j', '8', '--ca-file', 'ca.pem', 'digest', 'x'], 'digest'],
    [['--concurrency=8', '-vq', 'ls', 'repo', '--filter', 'v1'], 'ls'],
    [['-H', 'X-A: 1', 'manifest', 'get', 'x'], 'manifest'],
    [['--help'], undefined],
    [[], undefined],
    [['--progress', 'sideways', 'cp', 'a', 'b'], undefined],
    [['--no-such-option', 'cp', 'a', 'b'], undefined],
  ])('in %j is %s', (args, name) => {
    expect(invokedCommand(['node', 'tug', ...args])).toBe(name);
  });
});
