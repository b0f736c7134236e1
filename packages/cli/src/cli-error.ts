/**
 * The exit codes of `aso`, documented in docs/cli.md. Scripts branch on them, so a
 * code never changes meaning.
 */
export const EXIT = {
  ok: 0,
  /** The migration, or a member of a batch or drain, ended failed or cancelled. */
  migrationFailed: 1,
  /** The command line was wrong, or no token or API URL could be found. */
  usage: 2,
  /** The API refused the request (4xx): invalid, unknown id, conflict, bad token. */
  refused: 3,
  /** The API could not be reached, or answered 5xx. */
  unavailable: 4,
  /** Ctrl-C while following: the migration itself goes on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What the API said when it refused, as its problem+json document carries it. */
export interface ProblemDetails {
  status: number;
  code: string;
  detail: string;
  errors?: { field: string; message: string }[];
  migration_id?: string;
}

/** An error with the message a person reads and the exit code a script reads. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly problem: ProblemDetails | undefined;

  constructor(exitCode: ExitCode, message: string, problem?: ProblemDetails) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.problem = problem;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.usage, message);
    this.name = 'UsageError';
  }
}
