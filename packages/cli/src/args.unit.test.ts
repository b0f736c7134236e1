import { describe, expect, it } from 'vitest';

import { parseCommandLine } from './args.ts';
import { UsageError } from './cli-error.ts';

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

const BATCH_ID = '6f1c2d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';

describe('the command line', () => {
  it('reads a migration with every option, global options anywhere', () => {
    const parsed = parseCommandLine([
      '--api-url',
      'http://127.0.0.1:9999',
      'migrate',
      'tf-train-0',
      '--to',
      'worker-2',
      '-n',
      'ml',
      '--from',
      'worker-1',
      '--preserve-pv',
      '--force',
      '--timeout',
      '120',
      '--detach',
      '-o',
      'json',
    ]);

    expect(parsed.global).toEqual({
      apiUrl: 'http://127.0.0.1:9999',
      token: undefined,
      tokenFile: undefined,
      output: 'json',
    });
    expect(parsed.invocation).toEqual({
      command: 'migrate',
      pod: 'tf-train-0',
      namespace: 'ml',
      to: 'worker-2',
      from: 'worker-1',
      preservePv: true,
      force: true,
      timeoutSeconds: 120,
      detach: true,
    });
  });

  it('leaves out what was not given, for the API to default', () => {
    expect(parseCommandLine(['migrate', 'p', '--to', 'w2']).invocation).toMatchObject({
      namespace: undefined,
      from: undefined,
      timeoutSeconds: undefined,
      preservePv: false,
    });
  });

  it('tells subcommands of batch and drain from pod and node names', () => {
    expect(parseCommandLine(['batch', 'get', BATCH_ID]).invocation).toEqual({
      command: 'batch get',
      id: BATCH_ID,
    });
    expect(parseCommandLine(['drain', 'cancel', BATCH_ID]).invocation).toEqual({
      command: 'drain cancel',
      id: BATCH_ID,
    });
    expect(
      parseCommandLine(['drain', 'worker-1', '--max-in-flight', '3']).invocation,
    ).toMatchObject({
      command: 'drain',
      node: 'worker-1',
      maxInFlight: 3,
      to: undefined,
      preservePv: false,
    });
    expect(parseCommandLine(['batch', 'a', 'b', '--to', 'any']).invocation).toMatchObject({
      command: 'batch',
      pods: ['a', 'b'],
      selector: undefined,
      to: 'any',
    });
    expect(
      parseCommandLine(['batch', '-l', 'app=web', '-n', 'shop', '--to', 'worker-2']).invocation,
    ).toMatchObject({ pods: [], selector: 'app=web', namespace: 'shop' });
  });

  it('answers help for the command asked about, even when its arguments are missing', () => {
    expect(parseCommandLine(['migrate', '--help']).invocation).toEqual({
      command: 'help',
      topic: 'migrate',
    });
    expect(parseCommandLine(['help', 'batch', 'get']).invocation).toEqual({
      command: 'help',
      topic: 'batch get',
    });
    expect(parseCommandLine(['--help']).invocation).toEqual({ command: 'help', topic: undefined });
  });

  it('refuses what it cannot run, saying what to fix', () => {
    expect(usageError(['migrate', 'p'])).toMatch(/^--to is required; usage: aso migrate POD/);
    expect(usageError(['migrate', '--to', 'w'])).toMatch(/^POD is missing/);
    expect(usageError(['migrate', 'p', 'q', '--to', 'w'])).toMatch(/unexpected argument\(s\): q/);
    expect(usageError(['migrate', 'p', '--to', 'w', '--colour'])).toMatch(
      /Unknown option '--colour'/,
    );
    expect(usageError(['migrate', 'p', '--to', 'w', '--timeout', '10'])).toBe(
      '--timeout must be a whole number from 30 to 3600, not "10"',
    );
    expect(usageError(['list', '--limit', '2.5'])).toMatch(/--limit must be a whole number/);
    expect(usageError(['get'])).toMatch(/^ID is missing; usage: aso get MIGRATION_ID/);
    expect(usageError(['move', 'p'])).toBe('unknown command "move"; run aso --help for the list');
    expect(usageError(['get', 'x', '-o', 'yaml'])).toBe(
      '--output must be text or json, not "yaml"',
    );
    expect(usageError(['batch', 'a', '-l', 'app=web'])).toMatch(/not both/);
    expect(usageError(['batch', '--to', 'any'])).toMatch(/name the pods, or select them/);
  });

  it('refuses no command at all, naming the commands', () => {
    expect(usageError([])).toMatch(
      /^a command is missing; usage: aso COMMAND .*migrate, plan, get/,
    );
    expect(usageError(['-o', 'json'])).toMatch(/^a command is missing/);
  });

  it('refuses an id that is not a UUID before asking the API, which takes only UUIDs', () => {
    expect(usageError(['get', 'nonexist'])).toMatch(
      /^"nonexist" is not a migration id: ids are UUIDs such as .*; usage: aso get MIGRATION_ID/,
    );
    expect(usageError(['cancel', `${BATCH_ID}0`])).toMatch(/is not a migration id/);
    expect(usageError(['batch', 'get', 'b-1'])).toMatch(/^"b-1" is not a batch id/);
    expect(usageError(['drain', 'cancel', 'd-1'])).toMatch(/^"d-1" is not a drain id/);
    // Version 9 is not one RFC 9562 knows, and the API refuses it too.
    expect(usageError(['get', '6f1c2d3e-0000-9000-8000-000000000004'])).toMatch(/not a migration/);

    for (const id of [BATCH_ID, BATCH_ID.toUpperCase(), '00000000-0000-0000-0000-000000000000']) {
      expect(parseCommandLine(['get', id]).invocation).toEqual({ command: 'get', id });
    }
  });
});
