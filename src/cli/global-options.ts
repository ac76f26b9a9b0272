import { type Command, Help, InvalidArgumentError, Option } from 'commander';

/** The options every command accepts (README.md, "Global options"). */
export interface GlobalOptions {
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  registryConfig?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  concurrency?: number;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  progress?: boolean | string;
  timeout?: number;
  retries?: number;
  header?: string[];
  certsDir?: string;
}

/** The values `--progress` takes; `--no-progress` is `none`. */
export const progressModes = ['auto', 'plain', 'json', 'none'];

export function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return parsed;
}

/** Global options that only some commands use, by attribute name; the others serve every command. */
const usedOnlyBy: Record<string, ReadonlySet<string> | 'registry'> = {
  plainHttp: 'registry',
  insecure: 'registry',
  caFile: 'registry',
  certFile: 'registry',
  keyFile: 'registry',
  username: 'registry',
  password: 'registry',
  passwordStdin: 'registry',
  timeout: 'registry',
  retries: 'registry',
  header: 'registry',
  certsDir: 'registry',
  concurrency: new Set(['cp', 'push', 'pull', 'attach', 'index create', 'sync']),
  progress: new Set(['cp', 'push', 'pull']),
  version: new Set(),
};
const offlineCommands = new Set(['logout']);

/** A command's full name, as typed after `tug` (`cp`, `manifest get`). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

function usesGlobalOption(command: Command, option: Option): boolean {
  const users = usedOnlyBy[option.attributeName()];
  const path = commandPath(command);
  if (users === undefined) return true;
  if (users === 'registry') return !offlineCommands.has(path);
  return users.has(path);
}

/** Each command's help lists the global options it uses, under "Global Options". */
function globalOptionsHelp(program: Command): Command {
  return program.configureHelp({
    showGlobalOptions: true,
    visibleGlobalOptions(this: Help, command: Command): Option[] {
      return Help.prototype.visibleGlobalOptions
        .call(this, command)
        .filter((option) => usesGlobalOption(command, option));
    },
  });
}

export function addGlobalOptions(program: Command): Command {
  return globalOptionsHelp(program)
    .option('--plain-http', 'use HTTP instead of HTTPS for every registry')
    .option('--insecure', 'skip TLS certificate verification')
    .option('--ca-file <file>', 'trust the CA certificates in this PEM file')
    .option('--cert-file <file>', 'client certificate (PEM) for mutual TLS')
    .option('--key-file <file>', 'client key (PEM) for mutual TLS')
    .option('--registry-config <path>', 'docker config.json to read credentials from')
    .option('-u, --username <user>', 'registry username')
    .option('-p, --password <password>', 'registry password or token (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('-j, --concurrency <n>', 'blobs transferred at once', parsePositiveInteger)
    .option(
      '--timeout <seconds>',
      'longest wait for a server to answer or send more, and the span over which a body must average 1 KiB/s (default 60)',
      parsePositiveInteger,
    )
    .option('--retries <n>', 'attempts for a request that may be retried (default 4)', parsePositiveInteger)
    .option('--json', 'machine-readable output')
    .option('-v, --verbose', 'trace HTTP requests on stderr (secrets redacted)')
    .option('-q, --quiet', 'print only the essential result')
    .addOption(
      new Option(
        '--progress <mode>',
        'auto (a display on a terminal), plain, json (one event per line), none',
      ).choices(progressModes),
    )
    .option('--no-progress', 'no progress display')
    .option(
      '--certs-dir <dir>',
      'read DIR/HOST[:PORT]/ (CAs, client certificates) instead of the certs.d defaults',
    )
    .option(
      '-H, --header <name: value>',
      'an extra request header for the registry (repeatable; never sent to other origins)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
}
