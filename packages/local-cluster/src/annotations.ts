import { cpuToNanocores, memoryToBytes, parseQuantity } from './quantity.ts';

/** Pod annotations that script what the node simulator does with a pod's containers. */
export const EXIT_ANNOTATION = 'sim.aso.dev/exit';
export const WAITING_ANNOTATION = 'sim.aso.dev/waiting';
export const READY_AFTER_ANNOTATION = 'sim.aso.dev/ready-after';
export const USAGE_ANNOTATION = 'sim.aso.dev/usage';

export const DEFAULT_READY_AFTER_SECONDS = 1;

export interface ExitDirective {
  exitCode: number;
  afterSeconds: number;
}

export interface UsageDirective {
  cpuNanocores: number;
  memoryBytes: number;
}

export interface PodDirectives {
  exits: ReadonlyMap<string, ExitDirective>;
  waiting: ReadonlyMap<string, string>;
  readyAfterSeconds: number;
  usage: ReadonlyMap<string, UsageDirective>;
}

export interface DirectiveProblem {
  annotation: string;
  message: string;
}

export interface ParsedDirectives {
  directives: PodDirectives;
  problems: DirectiveProblem[];
}

type Parsed<T> = { value: T } | { error: string };
type ValueParser<T> = (text: string) => Parsed<T>;

/** Container names are DNS labels (RFC 1123), which also keeps '=' and ',' unambiguous. */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EXIT_VALUE = /^(\d{1,3})@(\d+(?:\.\d+)?)$/;
const REASON = /^[A-Z][A-Za-z0-9]*$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

function parseExit(text: string): Parsed<ExitDirective> {
  const match = EXIT_VALUE.exec(text);
  const exitCode = Number(match?.[1]);
  if (match === null || exitCode > 255) {
    return { error: `"${text}" is not <exitCode 0-255>@<seconds>` };
  }

  return { value: { exitCode, afterSeconds: Number(match[2]) } };
}

function parseReason(text: string): Parsed<string> {
  if (!REASON.test(text)) {
    return { error: `"${text}" is not a CamelCase reason such as ImagePullBackOff` };
  }

  return { value: text };
}

function parseUsage(text: string): Parsed<UsageDirective> {
  const [cpuText = '', memoryText = '', extra] = text.split('/');
  const cpu = parseQuantity(cpuText);
  const memory = parseQuantity(memoryText);
  if (extra !== undefined || cpu === undefined || memory === undefined) {
    return { error: `"${text}" is not <cpu>/<memory>, e.g. 900m/1536Mi` };
  }

  return { value: { cpuNanocores: cpuToNanocores(cpu), memoryBytes: memoryToBytes(memory) } };
}

/**
 * Parses "<container>=<value>,..." into a map. Each bad entry becomes a problem and is
 * skipped, so one typo does not discard the rest of the annotation.
 */
function parseContainerList<T>(
  annotation: string,
  text: string | undefined,
  parseValue: ValueParser<T>,
  problems: DirectiveProblem[],
): Map<string, T> {
  const entries = new Map<string, T>();
  const items = (text ?? '').split(',').map((item) => item.trim());

  for (const item of items.filter((entry) => entry !== '')) {
    const separator = item.indexOf('=');
    const name = item.slice(0, separator);
    const parsed = separator < 0 ? undefined : parseValue(item.slice(separator + 1).trim());

    if (!CONTAINER_NAME.test(name) || parsed === undefined) {
      problems.push({ annotation, message: `"${item}" is not <container>=<value>` });
    } else if ('error' in parsed) {
      problems.push({ annotation, message: `${name}: ${parsed.error}` });
    } else if (entries.has(name)) {
      problems.push({ annotation, message: `${name} is listed twice; the first entry is used` });
    } else {
      entries.set(name, parsed.value);
    }
  }

  return entries;
}

function parseReadyAfter(text: string | undefined, problems: DirectiveProblem[]): number {
  if (text === undefined) {
    return DEFAULT_READY_AFTER_SECONDS;
  }

  if (!SECONDS.test(text.trim())) {
    problems.push({
      annotation: READY_AFTER_ANNOTATION,
      message: `"${text}" is not a number of seconds; using ${DEFAULT_READY_AFTER_SECONDS}`,
    });
    return DEFAULT_READY_AFTER_SECONDS;
  }

  return Number(text.trim());
}

export function parsePodDirectives(
  annotations: Readonly<Record<string, string>> | undefined,
): ParsedDirectives {
  const source = annotations ?? {};
  const problems: DirectiveProblem[] = [];
  const directives: PodDirectives = {
    exits: parseContainerList(EXIT_ANNOTATION, source[EXIT_ANNOTATION], parseExit, problems),
    waiting: parseContainerList(
      WAITING_ANNOTATION,
      source[WAITING_ANNOTATION],
      parseReason,
      problems,
    ),
    readyAfterSeconds: parseReadyAfter(source[READY_AFTER_ANNOTATION], problems),
    usage: parseContainerList(USAGE_ANNOTATION, source[USAGE_ANNOTATION], parseUsage, problems),
  };
  return { directives, problems };
}

/** Directives naming containers the pod does not have are most likely typos: report them. */
export function unknownContainerProblems(
  directives: PodDirectives,
  containerNames: readonly string[],
): DirectiveProblem[] {
  const known = new Set(containerNames);
  const lists: [string, ReadonlyMap<string, unknown>][] = [
    [EXIT_ANNOTATION, directives.exits],
    [WAITING_ANNOTATION, directives.waiting],
    [USAGE_ANNOTATION, directives.usage],
  ];

  return lists.flatMap(([annotation, entries]) =>
    [...entries.keys()]
      .filter((name) => !known.has(name))
      .map((name) => ({ annotation, message: `the pod has no container named ${name}` })),
  );
}
