import { Argument, Command, type OptionValues } from 'commander';
import { type CompletionShell, completionShells } from './completion-shells.js';
import type { CliContext } from './context.js';
import { addGlobalOptions, parsePositiveInteger } from './global-options.js';
import { addSideOptions } from './side-options.js';

/** What a command module exports; it is imported only when its command runs. */
export interface CommandModule {
  run(context: CliContext, args: string[], options: OptionValues): Promise<void>;
}

export type RunCommand = (load: () => Promise<CommandModule>, command: Command) => Promise<void>;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

type Action = (load: () => Promise<CommandModule>) => (...args: unknown[]) => Promise<void>;

/** A top-level command (or a group of them, as `manifest`), added to the program by `define`. */
interface Definition {
  names: string[];
  /** Its action reads every command of the program, which is then built whole. */
  readsTree?: boolean;
  define(program: Command, action: Action, version: string): void;
}

/** The command tree, in the order `tug --help` lists it. */
const definitions: Definition[] = [
  {
    names: ['login'],
    define(program, action) {
      program
        .command('login')
        .description('verify credentials against a registry, then store them')
        .argument('[registry]', 'registry host', 'docker.io')
        .option('--identity-token <token>', 'store an identity (OAuth2 refresh) token instead of a password')
        .option('--identity-token-stdin', 'read the identity token from standard input')
        .action(action(() => import('./commands/login.js')));
    },
  },
  {
    names: ['logout'],
    define(program, action) {
      program
        .command('logout')
        .description('remove stored credentials')
        .argument('[registry]', 'registry host', 'docker.io')
        .action(action(() => import('./commands/logout.js')));
    },
  },
  {
    names: ['digest'],
    define(program, action) {
      program
        .command('digest')
        .description('print the manifest digest of a reference')
        .argument('<ref>', 'image or artifact reference')
        .option('--platform <os/arch[/variant]>', 'the digest of one platform of an index', collect, [])
        .action(action(() => import('./commands/digest.js')));
    },
  },
  {
    names: ['tags', 'ls'],
    define(program, action) {
      program
        .command('tags')
        .alias('ls')
        .description('list every tag of a repository')
        .argument('<repository>', 'repository (registry or oci: layout)')
        .option('--filter <regex>', 'only tags matching this regular expression')
        .option('--semver', 'only tags that read as versions (v1.2, 3.18.1), oldest first, newest last')
        .option('--exclude-digest-tags', 'leave out sha256-HEX tags (referrers, cosign .sig/.att/.sbom)')
        .action(action(() => import('./commands/tags.js')));
    },
  },
  {
    names: ['catalog'],
    define(program, action) {
      program
        .command('catalog')
        .description('list the repositories of a registry')
        .argument('<registry>', 'registry host')
        .action(action(() => import('./commands/catalog.js')));
    },
  },
  {
    names: ['manifest'],
    define(program, action) {
      const manifest = program.command('manifest').description('read, write and delete manifests');
      manifest
        .command('get')
        .description("print a manifest's exact bytes")
        .argument('<ref>', 'image or artifact reference')
        .option('--platform <os/arch[/variant]>', 'the manifest of one platform of an index', collect, [])
        .option('--descriptor', 'print the descriptor instead of the manifest')
        .option('--pretty', 'indent the JSON (the default is the exact bytes)')
        .action(action(() => import('./commands/manifest-get.js')));
      manifest
        .command('put')
        .description('upload a manifest from a file or stdin')
        .argument('<ref>', 'where to put it (a tag or a digest)')
        .argument('[file]', 'the manifest file, or - for stdin', '-')
        .option('--media-type <type>', "the manifest's media type, when the document does not say")
        .action(action(() => import('./commands/manifest-put.js')));
      manifest
        .command('delete')
        .description('delete a manifest (a tag is resolved to its digest first)')
        .argument('<ref>', 'image or artifact reference')
        .action(action(() => import('./commands/manifest-delete.js')));
    },
  },
  {
    names: ['config'],
    define(program, action) {
      program
        .command('config')
        .description('print the image config JSON')
        .argument('<ref>', 'image reference')
        .option('--platform <os/arch[/variant]>', 'the platform to read from an index', collect, [])
        .action(action(() => import('./commands/config.js')));
    },
  },
  {
    names: ['blob'],
    define(program, action) {
      const blob = program.command('blob').description('read, write and delete blobs');
      blob
        .command('get')
        .description('download a blob, verified against its digest')
        .argument('<ref>', 'REPOSITORY@DIGEST')
        .option('-o, --output <file>', 'file to write, or - for stdout', '-')
        .action(action(() => import('./commands/blob-get.js')));

      blob
        .command('put')
        .description('upload a blob from a file or stdin and print its digest')
        .argument('<repository>', 'repository to upload to')
        .argument('[file]', 'the file, or - for stdin', '-')
        .action(action(() => import('./commands/blob-put.js')));
      blob
        .command('delete')
        .description('delete a blob')
        .argument('<ref>', 'REPOSITORY@DIGEST')
        .action(action(() => import('./commands/blob-delete.js')));
    },
  },
  {
    names: ['cp', 'copy'],
    define(program, action) {
      addSideOptions(
        program
          .command('cp')
          .alias('copy')
          .description('copy an image, index or artifact with everything it points to')
          .argument('<source>', 'registry reference, oci:PATH[:TAG], or docker-archive:FILE[:NAME:TAG]')
          .argument(
            '<destination>',
            'registry reference, oci:PATH[:TAG], oci-archive:FILE[:TAG], or docker-archive:FILE[:NAME:TAG]; TAG may be a list a,b,c',
          )
          .option('--platform <os/arch[/variant]>', 'copy only this platform of an index', collect, [])
          .option('--all-tags', 'copy every tag of the source repository')
          .option('-r, --recursive', 'also copy referrers (signatures, SBOMs), recursively')
          .option(
            '--verify-key <file>',
            'refuse to copy an image without a valid signature by this public key',
          )
          .option(
            '--verify-identity <repository>',
            'with --verify-key: count only signatures that name this repository (docker.io and index.docker.io spell the same one)',
          )
          .option(
            '--digest-tags',
            "copy the image's cosign digest tags (sha256-HEX.sig, .att, .sbom) with it",
          )
          .option(
            '--max-nodes <n>',
            'stop after this many nodes of the graph (default 10000)',
            parsePositiveInteger,
          )
          .option('--no-clobber', 'refuse to move a destination tag that names another digest')
          .option(
            '--no-compress',
            'push the uncompressed layers of a docker-archive as they are (default: gzip them)',
          ),
      ).action(action(() => import('./commands/cp.js')));
    },
  },
  {
    names: ['tag'],
    define(program, action) {
      program
        .command('tag')
        .description('add tags to a manifest without moving any layer')
        .argument('<ref>', 'image or artifact reference')
        .argument('<tags...>', 'new tags in the same repository')
        .action(action(() => import('./commands/tag.js')));
    },
  },
  {
    names: ['delete'],
    define(program, action) {
      program
        .command('delete')
        .description('delete an image or artifact (a tag is resolved to its digest first)')
        .argument('<ref>', 'image or artifact reference')
        .option('--force', 'delete even when other tags name the same manifest (they go too)')
        .action(action(() => import('./commands/delete.js')));
    },
  },
  {
    names: ['untag'],
    define(program, action) {
      program
        .command('untag')
        .description('remove one tag; the manifest and its other tags stay')
        .argument('<ref>', 'REPOSITORY:TAG, oci:PATH:TAG or oci-archive:FILE:TAG')
        .action(action(() => import('./commands/untag.js')));
    },
  },
  {
    names: ['index'],
    define(program, action) {
      const index = program.command('index').description('build multi-platform indexes');
      addSideOptions(
        index
          .command('create')
          .description('create an index from existing manifests (their platforms read from their configs)')
          .argument('<ref>', 'where to push the index')
          .argument('<sources...>', 'images or indexes to list'),
      ).action(action(() => import('./commands/index-create.js')));
    },
  },
  {
    names: ['push'],
    define(program, action) {
      program
        .command('push')
        .description('push files as an artifact (a directory is packed as tar+gzip)')
        .argument('<ref>', 'where to push: a registry reference or oci:PATH[:TAG]')
        .argument('[files...]', 'FILE[:MEDIATYPE], a directory, or - for stdin')
        .option('--helm <chart.tgz>', 'push a packaged Helm chart as helm push does, to REF/NAME:VERSION')
        .option('--artifact-type <type>', 'the artifact type of the manifest')
        .option('-a, --annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
        .option('--annotation-file <file>', 'annotations as JSON: $manifest, $config and one key per file')
        .option('--config <file[:mediatype]>', 'a config blob instead of the empty one')
        .option('--export-manifest <file>', 'also write the manifest to this file')
        .option('--disable-path-validation', 'allow absolute file paths as titles')
        .option('--stdin-name <name>', 'the title of the file read from - (stdin)', 'stdin')
        .action(action(() => import('./commands/push.js')));
    },
  },
  {
    names: ['pull'],
    define(program, action) {
      program
        .command('pull')
        .description("pull an artifact's files, named by their titles")
        .argument('<ref>', 'a registry reference or oci:PATH[:TAG]')
        .option('-o, --output <dir>', 'directory to write into', '.')
        .option('--platform <os/arch[/variant]>', 'the manifest of one platform of an index', collect, [])
        .option('--keep-old-files', 'refuse to overwrite existing files')
        .option('--allow-path-traversal', 'allow titles that write outside the output directory')
        .option(
          '--max-unpack-size <bytes>',
          'most bytes a packed directory may unpack to (default 16 GiB)',
          parsePositiveInteger,
        )
        .option(
          '--max-unpack-ratio <n>',
          'most uncompressed bytes per compressed byte (default 200)',
          parsePositiveInteger,
        )
        .action(action(() => import('./commands/pull.js')));
    },
  },
  {
    names: ['attach'],
    define(program, action) {
      program
        .command('attach')
        .description('push an artifact that refers to SUBJECT (an SBOM, a signature, an attestation)')
        .argument('<subject>', 'the image or artifact it is about')
        .argument('<files...>', 'FILE[:MEDIATYPE] or a directory')
        .requiredOption('--artifact-type <type>', 'the artifact type, e.g. application/spdx+json')
        .option('-a, --annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
        .option('--annotation-file <file>', 'annotations as JSON: $manifest and one key per file')
        .option('--platform <os/arch[/variant]>', 'attach to one platform of an index', collect, [])
        .option('--stdin-name <name>', 'the title of the file read from - (stdin)', 'stdin')
        .action(action(() => import('./commands/attach.js')));
    },
  },
  {
    names: ['discover'],
    define(program, action) {
      program
        .command('discover')
        .description('list the referrers of an image or artifact, and theirs')
        .argument('<ref>', 'image or artifact reference')
        .option('--artifact-type <type>', 'only referrers of this type')
        .option('--format <format>', 'tree, table or json', 'tree')
        .option(
          '--depth <n>',
          'levels of referrers of referrers to follow (default 16)',
          parsePositiveInteger,
        )
        .option('--platform <os/arch[/variant]>', 'the referrers of one platform of an index', collect, [])
        .option(
          '--max-nodes <n>',
          'stop after listing this many referrers (default 10000)',
          parsePositiveInteger,
        )
        .action(action(() => import('./commands/discover.js')));
    },
  },
  {
    names: ['sync'],
    define(program, action) {
      program
        .command('sync')
        .description('mirror what a YAML file describes: repositories, tag filters, platforms, signatures')
        .argument('<file>', 'the sync file (see the README, "Mirroring with tug sync")')
        .option('--dry-run', 'print the plan (copy, skip, conflict per image) and change nothing')
        .option('--shard <i/n>', 'take the i-th of n stable shares of the images (for parallel jobs)')
        .action(action(() => import('./commands/sync.js')));
    },
  },
  {
    names: ['inspect'],
    define(program, action) {
      program
        .command('inspect')
        .description('a summary of an image, index or artifact')
        .argument('<ref>', 'image or artifact reference')
        .option('--platform <os/arch[/variant]>', 'inspect one platform of an index', collect, [])
        .action(action(() => import('./commands/inspect.js')));
    },
  },
  {
    names: ['generate-key-pair'],
    define(program, action) {
      program
        .command('generate-key-pair')
        .description('write cosign.key (encrypted with COSIGN_PASSWORD or a prompt) and cosign.pub')
        .option('--output-key-prefix <prefix>', 'file name prefix of the key pair', 'cosign')
        .action(action(() => import('./commands/generate-key-pair.js')));
    },
  },
  {
    names: ['sign'],
    define(program, action) {
      program
        .command('sign')
        .description("sign an image's digest with a key, as cosign does")
        .argument('<ref>', 'image reference (a tag is resolved; the digest is signed)')
        .requiredOption('--key <file>', 'private key: cosign.key or a PKCS#8 PEM')
        .option(
          '-a, --annotation <key=value>',
          'a claim in the payload\'s "optional" section (repeatable)',
          collect,
          [],
        )
        .option('-r, --recursive', 'also sign each manifest of an index')
        .option(
          '--format <format>',
          'classic (the sha256-HEX.sig tag) or bundle (a Sigstore bundle referrer)',
          'classic',
        )
        .action(action(() => import('./commands/sign.js')));
    },
  },
  {
    names: ['verify'],
    define(program, action) {
      program
        .command('verify')
        .description('verify the signatures of an image with a public key, offline')
        .argument('<ref>', 'image reference')
        .requiredOption('--key <file>', 'public key: cosign.pub')
        .option(
          '--rekor-key <file>',
          "also require each signature's Rekor entry, checked with this log public key",
        )
        .option(
          '--identity <repository>',
          'require each signature to name this repository (docker.io and index.docker.io spell the same one)',
        )
        .action(action(() => import('./commands/verify.js')));
    },
  },
  {
    names: ['version'],
    define(program, _action, version) {
      program
        .command('version')
        .description('print the version')
        .action((_options: OptionValues, command: Command) =>
          command.configureOutput().writeOut?.(`${version}\n`),
        );
    },
  },
  {
    names: ['completion'],
    readsTree: true,
    define(program) {
      program
        .command('completion')
        .description('print a completion script: tug completion bash > /etc/bash_completion.d/tug')
        .addArgument(new Argument('<shell>', 'the shell').choices(completionShells))
        .action(async (shell: CompletionShell, _options: OptionValues, command: Command) => {
          const { completionScript } = await import('./completion.js');
          command.configureOutput().writeOut?.(completionScript(program, shell));
        });
    },
  },
];

/**
 * The command tree. Definitions only: each action imports its module lazily, so `tug --version`
 * and `tug --help` load nothing but commander. With `only`, the name (or alias) of a top-level
 * command, just that command is defined: building the whole tree took 3-4 ms of every run.
 */
export function buildProgram(version: string, runCommand: RunCommand, only?: string): Command {
  const program = addGlobalOptions(
    new Command('tug')
      .description('A client for OCI and Docker registries: copy images, push and pull artifacts, inspect.')
      .version(version, '-V, --version', 'print the version'),
  );
  const action: Action =
    (load: () => Promise<CommandModule>) =>
    (...args: unknown[]): Promise<void> =>
      runCommand(load, args.at(-1) as Command);
  const chosen = definitions.filter(({ names }) => only !== undefined && names.includes(only));
  const whole = chosen.length === 0 || chosen.some(({ readsTree }) => readsTree);
  for (const { define } of whole ? definitions : chosen) define(program, action, version);
  return program;
}

/**
 * The top-level command `argv` (as process.argv) names, found as commander finds it: the first
 * operand once the global options and their values are set aside. Undefined when there is none or
 * the global options do not parse; the whole program is then built, and reports it.
 */
export function invokedCommand(argv: string[]): string | undefined {
  const scout = addGlobalOptions(new Command())
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    return scout.parseOptions(argv.slice(2)).operands[0];
  } catch {
    return undefined;
  }
}
