import { ApiClient, type Fetch } from './api-client.ts';
import { parseCommandLine, wantsJson, type CommandLine, type Invocation } from './args.ts';
import { cancelGroup, batchBody, drainBody, getGroup, startGroup } from './batch-commands.ts';
import { CliError, EXIT, type ExitCode } from './cli-error.ts';
import { resolveConnection, type Environment } from './connection.ts';
import { commandHelp } from './help.ts';
import { migrate } from './migrate-command.ts';
import { createOutput, type Output, type Terminal } from './output.ts';
import { cancelMigration, getMigration, listMigrations, planMigration } from './record-commands.ts';

export interface Runtime extends Terminal {
  env: Environment;
  fetch?: Fetch;
  /** Aborted on Ctrl-C: following stops, the migration goes on. */
  signal?: AbortSignal;
}

/** Runs one command line; resolves with the exit code. Never throws. */
export async function main(argv: string[], runtime: Runtime = processRuntime()): Promise<number> {
  let commandLine: CommandLine | undefined;
  try {
    commandLine = parseCommandLine(argv);
    const output = createOutput(commandLine.global.output, runtime);
    if (commandLine.invocation.command === 'help') {
      output.lines(commandHelp(commandLine.invocation.topic));
      return EXIT.ok;
    }

    const client = new ApiClient(resolveConnection(commandLine.global, runtime.env), runtime.fetch);
    const signal = runtime.signal ?? new AbortController().signal;
    return await run(client, commandLine.invocation, output, signal);
  } catch (error) {
    // Whatever the abort broke off (a read, a pause) surfaces as its own error.
    const stopped = runtime.signal?.aborted === true ? interrupted(runtime.signal) : error;
    const json = commandLine ? commandLine.global.output === 'json' : wantsJson(argv);
    return report(stopped, json, runtime);
  }
}

function run(
  client: ApiClient,
  invocation: Exclude<Invocation, { command: 'help' }>,
  output: Output,
  signal: AbortSignal,
): Promise<ExitCode> {
  switch (invocation.command) {
    case 'migrate':
      return migrate(client, invocation, output, signal);
    case 'plan':
      return planMigration(client, invocation, output);
    case 'get':
      return getMigration(client, invocation.id, output);
    case 'list':
      return listMigrations(client, invocation.limit, output);
    case 'cancel':
      return cancelMigration(client, invocation.id, output);
    case 'batch':
      return startGroup(
        client,
        'batches',
        batchBody(invocation),
        invocation.detach,
        output,
        signal,
      );
    case 'drain':
      return startGroup(client, 'drains', drainBody(invocation), invocation.detach, output, signal);
    case 'batch get':
      return getGroup(client, 'batches', invocation.id, output);
    case 'batch cancel':
      return cancelGroup(client, 'batches', invocation.id, output);
    case 'drain get':
      return getGroup(client, 'drains', invocation.id, output);
    case 'drain cancel':
      return cancelGroup(client, 'drains', invocation.id, output);
  }
}

/**
 * Says what went wrong on stderr, and for --output json also as the one JSON
 * document on stdout, so that a script always has something to parse.
 */
function report(error: unknown, json: boolean, terminal: Terminal): number {
  const failure = asCliError(error);
  terminal.stderr.write(`aso: ${failure.message}\n`);
  if (json) {
    const document = {
      error: {
        message: failure.message,
        exit_code: failure.exitCode,
        ...(failure.problem && { problem: failure.problem }),
      },
    };
    terminal.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  }
  return failure.exitCode;
}

function interrupted(signal: AbortSignal): CliError {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : 'interrupted';
  return new CliError(EXIT.interrupted, message);
}

function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(EXIT.unavailable, `unexpected error: ${message}`);
}

const INTERRUPTED =
  'stopped following on Ctrl-C; the migration, batch or drain goes on: ' +
  'aso get (or batch get, drain get) shows it';

/** The process's streams and environment; Ctrl-C stops following instead of killing. */
function processRuntime(): Runtime {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort(new Error(INTERRUPTED));
    // A command that was not following anything has no one to notice the abort.
    setTimeout(() => process.exit(EXIT.interrupted), 1_000).unref();
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: interrupt.signal,
  };
}
