import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

/** Completes `line` (the cursor at its end) with the generated bash script, as bash's complete -F does. */
async function bashComplete(script: string, line: string): Promise<string[]> {
  const file = join(await tempDir(), 'tug.bash');
  await writeFile(file, script);
  const words = line.split(' ');
  const program = [
    `source ${file}`,
    `COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_tug_completion tug',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const { stdout } = await promisify(execFile)('bash', ['-c', program]);
  return stdout.split('\n').filter(Boolean);
}

describe('version', () => {
  it('prints the same version for tug version, -V and --version', async () => {
    const outputs = await Promise.all([runTug(['version']), runTug(['-V']), runTug(['--version'])]);
    for (const result of outputs) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    expect(new Set(outputs.map((result) => result.stdout)).size).toBe(1);
  });
});

describe('tug completion', () => {
  it('completes commands, subcommands and each command’s options in bash', async () => {
    const { stdout } = await runTug(['completion', 'bash']);
    expect(await bashComplete(stdout, 'tug ma')).toEqual(['manifest']);
    expect(await bashComplete(stdout, 'tug manifest ')).toEqual(
      expect.arrayContaining(['get', 'put', 'delete']),
    );
    expect(await bashComplete(stdout, 'tug manifest get --d')).toEqual(['--descriptor']);
    expect(await bashComplete(stdout, 'tug ls --insec')).toEqual(['--insecure']);
    expect(await bashComplete(stdout, 'tug cp --all')).toEqual(['--all-tags']);
  });

  it('lists every command of the program in each shell’s script', async () => {
    const help = (await runTug(['--help'])).stdout.split('Commands:')[1] ?? '';
    const commands = [...help.matchAll(/^ {2}([a-z-]+)(?:\|[a-z]+)? /gm)]
      .map((match) => match[1] ?? '')
      .filter((command) => command !== 'help');
    expect(commands).toContain('inspect');
    const [zsh, fish] = await Promise.all([runTug(['completion', 'zsh']), runTug(['completion', 'fish'])]);
    expect(zsh.stdout).toMatch(/^#compdef tug\n/);
    for (const command of commands) {
      expect(zsh.stdout).toContain(`'${command}'`);
      expect(fish.stdout).toContain(`-n '__fish_use_subcommand' -a '${command}'`);
    }
    expect(fish.stdout).toContain(
      "-n '__fish_seen_subcommand_from manifest; and __fish_seen_subcommand_from get' -l descriptor",
    );
  });

  it('refuses a shell it has no script for, with exit 2', async () => {
    const result = await runTug(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bash, zsh, fish/);
  });
});
