import { parseArgs } from 'node:util';

import { UsageError } from './cli-error.ts';
import {
  COMMANDS,
  findCommand,
  GLOBAL_OPTIONS,
  type CommandSpec,
  type OptionSpec,
} from './command-specs.ts';

export type OutputFormat = 'text' | 'json';

/** How to reach the API, as the command line gave it; the environment fills gaps later. */
export interface GlobalOptions {
  apiUrl: string | undefined;
  token: string | undefined;
  tokenFile: string | undefined;
  output: OutputFormat;
}

/** Fields every migration a command starts shares. */
export interface MigrationOptions {
  preservePv: boolean;
  force: boolean;
  timeoutSeconds: number | undefined;
}

export type Invocation =
  | { command: 'help'; topic: string | undefined }
  | ({
      command: 'migrate';
      pod: string;
      namespace: string | undefined;
      to: string;
      from: string | undefined;
      detach: boolean;
    } & MigrationOptions)
  | {
      command: 'plan';
      pod: string;
      namespace: string | undefined;
      to: string;
      from: string | undefined;
    }
  | { command: 'get' | 'cancel'; id: string }
  | { command: 'list'; limit: number | undefined }
  | ({
      command: 'batch';
      pods: string[];
      selector: string | undefined;
      namespace: string | undefined;
      to: string | undefined;
      maxInFlight: number | undefined;
      detach: boolean;
    } & MigrationOptions)
  | ({
      command: 'drain';
      node: string;
      to: string | undefined;
      maxInFlight: number | undefined;
      detach: boolean;
    } & MigrationOptions)
  | { command: 'batch get' | 'batch cancel' | 'drain get' | 'drain cancel'; id: string };

export interface CommandLine {
  global: GlobalOptions;
  invocation: Invocation;
}

type Values = Record<string, string | boolean | undefined>;

const ALL_OPTIONS = Object.assign(
  {},
  GLOBAL_OPTIONS,
  ...COMMANDS.map((c) => c.options),
) as typeof GLOBAL_OPTIONS;

/** Commands whose first argument may name a subcommand. */
const GROUPS = new Set(['batch', 'drain']);
const SUBCOMMANDS = new Set(['get', 'cancel']);

/**
 * Reads `aso [global options] COMMAND [arguments and options]`. Global options may
 * stand anywhere. Throws UsageError with a message that says what to fix.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  // Every option of every command is known here, so that an option's value is not
  // taken for the command's name.
  const first = parseArgs({
    args: argv,
    options: stripDescriptions(ALL_OPTIONS),
    allowPositionals: true,
    strict: false,
  });
  const [name, second, ...rest] = first.positionals;
  const globalHelp = first.values['help'] === true;

  if (name === undefined && !globalHelp) throw new UsageError(missingCommand());
  if (name === undefined || name === 'help') {
    const topic = [second, ...rest].filter((word) => word !== undefined).join(' ');
    return { global: defaultGlobals(), invocation: { command: 'help', topic: topic || undefined } };
  }
  const spec = commandFor(name, second);
  const { values, positionals } = parseFor(spec, argv);
  const global = globalOptions(values);
  if (globalHelp) return { global, invocation: { command: 'help', topic: spec.name } };

  // The command's own words ("batch get") are not its arguments.
  const args = positionals.slice(spec.name.split(' ').length);
  return { global, invocation: invocationOf(spec, values, args) };
}

/**
 * Whether the command line asks for JSON, read leniently: a usage error must still
 * be answered in JSON when the rest of the line could not be parsed.
 */
export function wantsJson(argv: string[]): boolean {
  const { values } = parseArgs({
    args: argv,
    options: stripDescriptions(ALL_OPTIONS),
    allowPositionals: true,
    strict: false,
  });
  return values['output'] === 'json';
}

/** `aso` alone: a slip, not a request for help, so it says how to go on and fails. */
function missingCommand(): string {
  const names = COMMANDS.map((command) => command.name).join(', ');
  return (
    'a command is missing; usage: aso COMMAND [arguments] [options], ' +
    `COMMAND one of ${names}; run aso --help for more`
  );
}

function commandFor(name: string, second: string | undefined): CommandSpec {
  const sub = GROUPS.has(name) && second !== undefined && SUBCOMMANDS.has(second);
  const spec = findCommand(sub ? `${name} ${second}` : name);
  if (!spec) throw new UsageError(`unknown command "${name}"; run aso --help for the list`);
  return spec;
}

function parseFor(spec: CommandSpec, argv: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: stripDescriptions({ ...GLOBAL_OPTIONS, ...spec.options }),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${argumentProblem(error)}; usage: ${spec.usage}`);
  }
}

/** parseArgs explains itself well, but with advice meant for programmers; keep the fact. */
function argumentProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. ')[0]?.replace(/\.$/, '') ?? message;
}

function stripDescriptions(options: Record<string, OptionSpec>) {
  const stripped: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, { type, short }] of Object.entries(options)) {
    stripped[name] = short === undefined ? { type } : { type, short };
  }
  return stripped;
}

function defaultGlobals(): GlobalOptions {
  return { apiUrl: undefined, token: undefined, tokenFile: undefined, output: 'text' };
}

function globalOptions(values: Values): GlobalOptions {
  const output = stringOf(values, 'output') ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new UsageError(`--output must be text or json, not "${output}"`);
  }
  return {
    apiUrl: stringOf(values, 'api-url'),
    token: stringOf(values, 'token'),
    tokenFile: stringOf(values, 'token-file'),
    output,
  };
}

function invocationOf(spec: CommandSpec, values: Values, args: string[]): Invocation {
  switch (spec.name) {
    case 'migrate':
      return migrateInvocation(spec, values, args);
    case 'plan':
      return {
        command: 'plan',
        pod: single(spec, args, 'POD'),
        namespace: stringOf(values, 'namespace'),
        to: required(spec, values, 'to'),
        from: stringOf(values, 'from'),
      };
    case 'list':
      none(spec, args);
      return { command: 'list', limit: integerOf(values, 'limit', 1, 500) };
    case 'batch':
      return batchInvocation(spec, values, args);
    case 'drain':
      return drainInvocation(spec, values, args);
    default:
      return idInvocation(spec, args);
  }
}

function migrateInvocation(spec: CommandSpec, values: Values, args: string[]): Invocation {
  return {
    command: 'migrate',
    pod: single(spec, args, 'POD'),
    namespace: stringOf(values, 'namespace'),
    to: required(spec, values, 'to'),
    from: stringOf(values, 'from'),
    detach: values['detach'] === true,
    ...migrationOptions(values),
  };
}

function batchInvocation(spec: CommandSpec, values: Values, args: string[]): Invocation {
  const selector = stringOf(values, 'selector');
  if (selector !== undefined && args.length > 0) {
    throw new UsageError(`give pod names or -l SELECTOR, not both; usage: ${spec.usage}`);
  }
  if (selector === undefined && args.length === 0) {
    throw new UsageError(`name the pods, or select them with -l SELECTOR; usage: ${spec.usage}`);
  }
  return {
    command: 'batch',
    pods: args,
    selector,
    namespace: stringOf(values, 'namespace'),
    to: stringOf(values, 'to'),
    maxInFlight: integerOf(values, 'max-in-flight', 1, 1000),
    detach: values['detach'] === true,
    ...migrationOptions(values),
  };
}

function drainInvocation(spec: CommandSpec, values: Values, args: string[]): Invocation {
  return {
    command: 'drain',
    node: single(spec, args, 'NODE'),
    to: stringOf(values, 'to'),
    maxInFlight: integerOf(values, 'max-in-flight', 1, 1000),
    detach: values['detach'] === true,
    ...migrationOptions(values),
  };
}

function idInvocation(spec: CommandSpec, args: string[]): Invocation {
  const id = single(spec, args, 'ID');
  requireUuid(spec, id);
  switch (spec.name) {
    case 'get':
    case 'cancel':
    case 'batch get':
    case 'batch cancel':
    case 'drain get':
    case 'drain cancel':
      return { command: spec.name, id };
    default:
      throw new UsageError(`unknown command "${spec.name}"`);
  }
}

/**
 * The API takes only RFC 9562 UUIDs as ids (zod's uuid()), the nil and max ones
 * included; checked here so that a mistyped id is a usage error (2), and exit 3
 * keeps meaning that a well-formed id is unknown.
 */
const UUID_PATTERN = new RegExp(
  '^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' +
    '|0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$',
  'i',
);

const EXAMPLE_ID = '6f1c2d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';

function requireUuid(spec: CommandSpec, id: string): void {
  if (UUID_PATTERN.test(id)) return;
  const group = spec.name.split(' ')[0];
  const kind = group === 'batch' || group === 'drain' ? group : 'migration';
  throw new UsageError(
    `"${id}" is not a ${kind} id: ids are UUIDs such as ${EXAMPLE_ID}; usage: ${spec.usage}`,
  );
}

function migrationOptions(values: Values): MigrationOptions {
  return {
    preservePv: values['preserve-pv'] === true,
    force: values['force'] === true,
    timeoutSeconds: integerOf(values, 'timeout', 30, 3600),
  };
}

function stringOf(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function required(spec: CommandSpec, values: Values, name: string): string {
  const value = stringOf(values, name);
  if (value === undefined || value === '') {
    throw new UsageError(`--${name} is required; usage: ${spec.usage}`);
  }
  return value;
}

/** A whole number within bounds: caught here, before a request is sent. */
function integerOf(values: Values, name: string, min: number, max: number): number | undefined {
  const raw = stringOf(values, name);
  if (raw === undefined) return undefined;

  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function single(spec: CommandSpec, args: string[], what: string): string {
  const [value, ...rest] = args;
  if (value === undefined) throw new UsageError(`${what} is missing; usage: ${spec.usage}`);
  if (rest.length > 0) {
    throw new UsageError(`unexpected argument(s): ${rest.join(' ')}; usage: ${spec.usage}`);
  }
  return value;
}

function none(spec: CommandSpec, args: string[]): void {
  if (args.length > 0) {
    throw new UsageError(`unexpected argument(s): ${args.join(' ')}; usage: ${spec.usage}`);
  }
}
