import type { Writable } from 'node:stream';

import type { OutputFormat } from './args.ts';

/** Where a command writes, and how: the process's streams, or a test's. */
export interface Terminal {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
}

export interface Output {
  format: OutputFormat;
  terminal: Terminal;
  /** Lines for people (text output only). */
  lines(lines: string[]): void;
  /** The one JSON document of --output json. */
  json(value: unknown): void;
  /** A line on stderr: progress news that is not the command's result. */
  note(line: string): void;
  /** Whether live redrawing is possible: text output to a terminal. */
  live: boolean;
  width: number;
  /** Rows of the terminal: a frame taller than this could not be redrawn in place. */
  height: number;
}

const DEFAULT_WIDTH = 100;

export function createOutput(format: OutputFormat, terminal: Terminal): Output {
  return {
    format,
    terminal,
    lines(lines) {
      if (lines.length > 0) terminal.stdout.write(`${lines.join('\n')}\n`);
    },
    json(value) {
      terminal.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    note(line) {
      terminal.stderr.write(`${line}\n`);
    },
    live: format === 'text' && terminal.stdout.isTTY === true,
    width: widthOf(terminal.stdout.columns),
    height:
      terminal.stdout.rows !== undefined && terminal.stdout.rows > 0 ? terminal.stdout.rows : 40,
  };
}

/** A pseudo-terminal may report 0 columns before it is sized. */
function widthOf(columns: number | undefined): number {
  return columns !== undefined && columns > 0 ? columns : DEFAULT_WIDTH;
}
