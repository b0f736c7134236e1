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
    expect(parseCommandLine(['batch', 'get', 'b-1']).invocation).toEqual({
      command: 'batch get',
      id: 'b-1',
    });
    expect(parseCommandLine(['drain', 'cancel', 'd-1']).invocation).toEqual({
      command: 'drain cancel',
      id: 'd-1',
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
    expect(parseCommandLine([]).invocation).toEqual({ command: 'help', topic: undefined });
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
});
