import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { InterruptedError, TugError } from '../errors.js';
import { ExitCode, exitCodeFor, hintFor } from './errors.js';
import { commandPath, type GlobalOptions } from './global-options.js';
import { type Io, processIo, watchClosedStdout } from './io.js';
import { Output } from './output.js';
import { buildProgram, type CommandModule, invokedCommand } from './program.js';
import { takeStartupCaCerts } from './startup-cas.js';

/** Read as a file: through `require`, resolving the path took a millisecond of every command. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function report(error: unknown, output: Output): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message (unknown option, missing argument...).
    return error.exitCode === 0 ? ExitCode.success : ExitCode.usage;
  }
  if (error instanceof TugError) {
    output.error(error.message, hintFor(error));
    if (output.options.verbose && error.stack) traceStack(output, error.stack);
    return exitCodeFor(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(message);
  if (output.options.verbose && error instanceof Error && error.stack) traceStack(output, error.stack);
  return ExitCode.failure;
}

/** A stack trace, one escaped line per frame. */
function traceStack(output: Output, stack: string): void {
  for (const line of stack.split('\n')) output.trace(line);
}

/**
 * Runs tug with `argv` (as process.argv) and returns the exit code; never calls process.exit.
 * `onCommand` hears the command about to run, by its full name (`cp`, `manifest get`).
 */
export async function main(
  argv: string[],
  io: Io = processIo(),
  onCommand?: (name: string) => void,
): Promise<number> {
  const version = packageVersion();
  const startupCaCerts = takeStartupCaCerts(io.env);
  let output = new Output(io, {
    json: false,
    quiet: false,
    verbose: argv.includes('-v') || argv.includes('--verbose'),
  });

  const stdoutClosed = new AbortController();
  watchClosedStdout(io.stdout, () => stdoutClosed.abort());

  const runCommand = async (load: () => Promise<CommandModule>, command: Command): Promise<void> => {
    onCommand?.(commandPath(command));
    const options = command.optsWithGlobals<GlobalOptions>();
    const { CliContext } = await import('./context.js');
    const context = new CliContext(options, io, version, startupCaCerts);
    output = context.output;
    const interrupt = (signal: NodeJS.Signals) => context.interrupt.abort(new InterruptedError(signal));
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const stop = () => context.interrupt.abort(new TugError('standard output was closed'));
    if (stdoutClosed.signal.aborted) stop();
    stdoutClosed.signal.addEventListener('abort', stop);
    try {
      const module = await load();
      await module.run(context, (command.processedArgs as Array<string | string[]>).flat(), command.opts());
    } catch (error) {
      throw context.signal.aborted ? context.signal.reason : error;
    } finally {
      stdoutClosed.signal.removeEventListener('abort', stop);
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      await context.close();
    }
  };

  const program = buildProgram(version, runCommand, invokedCommand(argv));
  for (const command of [program, ...allSubcommands(program)]) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text),
    });
  }

  try {
    await program.parseAsync(argv);
    return ExitCode.success;
  } catch (error) {
    // Whoever read stdout has what it wanted: nothing failed that the user should hear about.
    if (stdoutClosed.signal.aborted) return ExitCode.success;
    return report(error, output);
  }
}

function allSubcommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allSubcommands(child)]);
}
