import {
  COMMANDS,
  findCommand,
  GLOBAL_OPTIONS,
  type CommandSpec,
  type OptionSpec,
} from './command-specs.ts';

/** `aso --help`: every command in a line, then the options all of them take. */
export function overviewHelp(): string[] {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'aso: the command-line client of the AI Storage Orchestrator API',
    '',
    'usage: aso COMMAND [arguments] [options]',
    '',
    'commands',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'options of every command',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'exit codes: 0 done; 1 a migration failed or was cancelled; 2 usage error;',
    '3 the API refused the request (4xx); 4 the API is unreachable or failed (5xx).',
    'Run aso COMMAND --help for a command; docs/cli.md has examples.',
  ];
}

/** `aso COMMAND --help`; the overview for an unknown topic. */
export function commandHelp(topic: string | undefined): string[] {
  const spec: CommandSpec | undefined = topic === undefined ? undefined : findCommand(topic);
  if (!spec) return overviewHelp();

  const own =
    Object.keys(spec.options).length > 0 ? ['', 'options', ...optionLines(spec.options)] : [];
  return [
    `usage: ${spec.usage}`,
    '',
    spec.summary,
    ...own,
    '',
    'options of every command',
    ...optionLines(GLOBAL_OPTIONS),
    ...(spec.notes ? ['', spec.notes] : []),
  ];
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, option]) => {
    const short = option.short ? `-${option.short}, ` : '    ';
    const value = option.value ? ` ${option.value}` : '';
    return [`  ${short}--${name}${value}`, option.description];
  });
  const width = Math.max(...rows.map(([flag]) => flag?.length ?? 0));
  return rows.map(([flag, description]) => `${(flag ?? '').padEnd(width)}  ${description ?? ''}`);
}
