import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

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
