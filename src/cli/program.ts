import { Command, type OptionValues } from 'commander';
import type { CliContext } from './context.js';
import { addGlobalOptions } from './global-options.js';

/** What a command module exports; it is imported only when its command runs. */
export interface CommandModule {
  run(context: CliContext, args: string[], options: OptionValues): Promise<void>;
}

export type RunCommand = (load: () => Promise<CommandModule>, command: Command) => Promise<void>;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The command tree. Definitions only: each action imports its module lazily, so `tug --version`
 * and `tug --help` load nothing but commander.
 */
export function buildProgram(version: string, runCommand: RunCommand): Command {
  const program = addGlobalOptions(
    new Command('tug')
      .description('A client for OCI and Docker registries: copy images, push and pull artifacts, inspect.')
      .version(version, '--version', 'print the version'),
  );

  const action =
    (load: () => Promise<CommandModule>) =>
    (...args: unknown[]): Promise<void> =>
      runCommand(load, args.at(-1) as Command);

  program
    .command('login')
    .description('verify credentials against a registry, then store them')
    .argument('[registry]', 'registry host', 'docker.io')
    .action(action(() => import('./commands/login.js')));

  program
    .command('logout')
    .description('remove stored credentials')
    .argument('[registry]', 'registry host', 'docker.io')
    .action(action(() => import('./commands/logout.js')));

  program
    .command('digest')
    .description('print the manifest digest of a reference')
    .argument('<ref>', 'image or artifact reference')
    .option('--platform <os/arch[/variant]>', 'the digest of one platform of an index', collect, [])
    .action(action(() => import('./commands/digest.js')));

  program
    .command('tags')
    .alias('ls')
    .description('list every tag of a repository')
    .argument('<repository>', 'repository (registry or oci: layout)')
    .action(action(() => import('./commands/tags.js')));

  program
    .command('catalog')
    .description('list the repositories of a registry')
    .argument('<registry>', 'registry host')
    .action(action(() => import('./commands/catalog.js')));

  const manifest = program.command('manifest').description('read, write and delete manifests');
  manifest
    .command('get')
    .description("print a manifest's exact bytes")
    .argument('<ref>', 'image or artifact reference')
    .option('--platform <os/arch[/variant]>', 'the manifest of one platform of an index', collect, [])
    .option('--descriptor', 'print the descriptor instead of the manifest')
    .action(action(() => import('./commands/manifest-get.js')));
  manifest
    .command('delete')
    .description('delete a manifest (a tag is resolved to its digest first)')
    .argument('<ref>', 'image or artifact reference')
    .action(action(() => import('./commands/manifest-delete.js')));

  program
    .command('config')
    .description('print the image config JSON')
    .argument('<ref>', 'image reference')
    .option('--platform <os/arch[/variant]>', 'the platform to read from an index', collect, [])
    .action(action(() => import('./commands/config.js')));

  const blob = program.command('blob').description('read, write and delete blobs');
  blob
    .command('get')
    .description('download a blob, verified against its digest')
    .argument('<ref>', 'REPOSITORY@DIGEST')
    .option('-o, --output <file>', 'file to write, or - for stdout', '-')
    .action(action(() => import('./commands/blob-get.js')));

  program
    .command('inspect')
    .description('a summary of an image, index or artifact')
    .argument('<ref>', 'image or artifact reference')
    .action(action(() => import('./commands/inspect.js')));

  return program;
}
