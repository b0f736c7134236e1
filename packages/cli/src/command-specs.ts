import type { ParseArgsOptionDescriptor } from 'node:util';

/** An option as parseArgs reads it, with the line its help prints. */
export interface OptionSpec extends ParseArgsOptionDescriptor {
  /** The value's placeholder in help, e.g. "NODE"; absent for a flag. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** "migrate", or "batch get" for a subcommand. */
  name: string;
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Shown under the options: examples, what the command prints. */
  notes?: string;
}

/** Accepted by every command, before or after its arguments. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  'api-url': {
    type: 'string',
    value: 'URL',
    description: 'the API to talk to (env ASO_API_URL; default http://127.0.0.1:8080)',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'the bearer token (env ASO_API_TOKEN)',
  },
  'token-file': {
    type: 'string',
    value: 'PATH',
    description:
      "a file holding the token (env ASO_API_TOKEN_FILE; default npm start's .local/token)",
  },
  output: {
    type: 'string',
    short: 'o',
    value: 'text|json',
    description: 'json: one JSON document on stdout for scripts, no progress bar',
  },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
};

const namespace: OptionSpec = {
  type: 'string',
  short: 'n',
  value: 'NAMESPACE',
  description: 'the namespace (default: default)',
};
const preservePv: OptionSpec = {
  type: 'boolean',
  description: 'give the new pod a checkpoint claim at /migration-checkpoint',
};
const force: OptionSpec = {
  type: 'boolean',
  description: 'delete the original instead of evicting it (bypasses PodDisruptionBudgets)',
};
const timeout: OptionSpec = {
  type: 'string',
  value: 'SECONDS',
  description: 'deadline of each migration, 30 to 3600 (default 600)',
};
const detach: OptionSpec = {
  type: 'boolean',
  description: 'print the id and return at once instead of following progress',
};
const maxInFlight: OptionSpec = {
  type: 'string',
  value: 'N',
  description: 'at most N member migrations at once',
};

/** The options of every command that starts migrations (MigrationOptions, and --detach). */
const migrationOptions: Record<string, OptionSpec> = {
  'preserve-pv': preservePv,
  force,
  timeout,
  detach,
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'migrate',
    usage: 'aso migrate POD --to NODE [--from NODE] [-n NAMESPACE] [options]',
    summary: 'move a pod to another node and follow its progress',
    options: {
      to: { type: 'string', value: 'NODE', description: 'the target node (required)' },
      from: {
        type: 'string',
        value: 'NODE',
        description: 'the node the pod runs on; when left out the API finds it',
      },
      namespace,
      ...migrationOptions,
    },
    notes:
      'Shows a progress bar per stage (capture, pod, metrics) until the migration ends, then\n' +
      'the outcome and what it saved. Exit code 0 when it completed, 1 when it failed or was\n' +
      'cancelled. Ctrl-C stops following; the migration goes on (aso get ID).\n\n' +
      'Example: aso migrate tf-train-0 --to worker-2 --preserve-pv',
  },
  {
    name: 'plan',
    usage: 'aso plan POD --to NODE [--from NODE] [-n NAMESPACE]',
    summary: "dry run: print the pre-flight's plan, change nothing",
    options: {
      to: { type: 'string', value: 'NODE', description: 'the target node (required)' },
      from: { type: 'string', value: 'NODE', description: 'the node the pod runs on (optional)' },
      namespace,
    },
  },
  {
    name: 'get',
    usage: 'aso get MIGRATION_ID',
    summary: 'show a migration: status, stages, new pod, savings',
    options: {},
  },
  {
    name: 'list',
    usage: 'aso list [--limit N]',
    summary: 'list migrations, newest first',
    options: {
      limit: { type: 'string', value: 'N', description: 'how many at most (default 50, max 500)' },
    },
  },
  {
    name: 'cancel',
    usage: 'aso cancel MIGRATION_ID',
    summary: 'cancel a migration that has not begun its switch',
    options: {},
  },
  {
    name: 'batch',
    usage:
      'aso batch POD... [--to NODE|any] [-n NAMESPACE] [options]\n' +
      '       aso batch -l SELECTOR [-n NAMESPACE] [--to NODE|any] [options]',
    summary: 'migrate several pods, at most N at once, and follow them',
    options: {
      selector: {
        type: 'string',
        short: 'l',
        value: 'SELECTOR',
        description: 'a label selector (app=trainer,tier!=db) instead of pod names',
      },
      namespace,
      to: {
        type: 'string',
        value: 'NODE|any',
        description: 'the target node, or any: each pod where it fits best (default any)',
      },
      'max-in-flight': maxInFlight,
      ...migrationOptions,
    },
    notes:
      'Exit code 0 when every member completed, 1 when any failed or was cancelled.\n\n' +
      'Example: aso batch -l app=trainer -n ml --to any --max-in-flight 2',
  },
  { name: 'batch get', usage: 'aso batch get BATCH_ID', summary: 'show a batch', options: {} },
  {
    name: 'batch cancel',
    usage: 'aso batch cancel BATCH_ID',
    summary: 'cancel the members of a batch that have not switched yet',
    options: {},
  },
  {
    name: 'drain',
    usage: 'aso drain NODE [--to NODE|any] [--max-in-flight N] [options]',
    summary: 'cordon a node and migrate every pod that can move off it',
    options: {
      to: {
        type: 'string',
        value: 'NODE|any',
        description: 'where the pods go (default any: where each fits)',
      },
      'max-in-flight': maxInFlight,
      ...migrationOptions,
    },
    notes:
      'Prints the pods the drain leaves on the node and why. Exit code 0 when every pod it\n' +
      'took on moved, 1 otherwise.\n\nExample: aso drain worker-1 --max-in-flight 2',
  },
  { name: 'drain get', usage: 'aso drain get DRAIN_ID', summary: 'show a drain', options: {} },
  {
    name: 'drain cancel',
    usage: 'aso drain cancel DRAIN_ID',
    summary: 'cancel a drain: unswitched members are cancelled, the node uncordoned',
    options: {},
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
