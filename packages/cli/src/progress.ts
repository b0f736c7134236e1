import { STAGE_NAMES, type MigrationEvent, type StageName } from './migration-event.ts';

/**
 * The live view of one migration, built from its events alone: a pure fold
 * (applyEvent) and a pure renderer (renderFrame), so that both are tested by feeding
 * events and reading the frame.
 */
export type StagePhase = 'pending' | 'running' | 'retrying' | 'done' | 'failed';

export interface StageProgress {
  phase: StagePhase;
  /** 0 to 1: how far the stage is, by the milestones it reported. */
  fraction: number;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** The stage's latest news, e.g. "new pod tf-train-0-m1a2b3 on worker-2". */
  note: string;
}

export interface ProgressState {
  migrationId: string;
  /** What moves where, e.g. "default/tf-train-0 worker-1 -> worker-2". */
  subject: string;
  status: string;
  stages: Record<StageName, StageProgress>;
  lastEvent: MigrationEvent | null;
}

/** Milestones of the pod stage, as fractions of its bar. */
const POD_MILESTONES: Record<string, number> = {
  'new-pod-created': 0.4,
  'pod-ready': 0.7,
  'original-removed': 0.9,
};
const STARTED_FRACTION = 0.1;

export function startProgress(migrationId: string, subject: string): ProgressState {
  const stage = (): StageProgress => ({
    phase: 'pending',
    fraction: 0,
    attempt: 0,
    startedAt: null,
    finishedAt: null,
    note: 'pending',
  });
  return {
    migrationId,
    subject,
    status: 'pending',
    stages: { capture: stage(), pod: stage(), metrics: stage() },
    lastEvent: null,
  };
}

/** The state after one more event; the input is not changed. */
export function applyEvent(state: ProgressState, event: MigrationEvent): ProgressState {
  const next: ProgressState = {
    ...state,
    status: event.status === '' ? state.status : event.status,
    stages: { ...state.stages },
    lastEvent: event,
  };
  const stage = event.stage ?? runningStage(state);
  if (stage === undefined) return next;

  next.stages[stage] = updateStage(state.stages[stage], event);
  if (event.type === 'stage-finished' && event.next_stage) {
    next.stages[event.next_stage] = { ...next.stages[event.next_stage], note: 'queued' };
  }
  return next;
}

function runningStage(state: ProgressState): StageName | undefined {
  return STAGE_NAMES.find((name) => {
    const phase = state.stages[name].phase;
    return phase === 'running' || phase === 'retrying';
  });
}

function updateStage(stage: StageProgress, event: MigrationEvent): StageProgress {
  const milestone = POD_MILESTONES[event.type];
  if (milestone !== undefined) {
    return { ...stage, fraction: Math.max(stage.fraction, milestone), note: podNote(event) };
  }

  switch (event.type) {
    case 'stage-started':
      return {
        ...stage,
        phase: 'running',
        fraction: Math.max(stage.fraction, STARTED_FRACTION),
        attempt: event.attempt ?? stage.attempt + 1,
        startedAt: stage.startedAt ?? event.at,
        note: (event.attempt ?? 1) > 1 ? `running (attempt ${event.attempt ?? ''})` : 'running',
      };
    case 'stage-retrying':
      return {
        ...stage,
        phase: 'retrying',
        note: `retrying: ${event.error?.message ?? event.message}`,
      };
    case 'stage-finished':
      return { ...stage, phase: 'done', fraction: 1, finishedAt: event.at, note: 'done' };
    case 'waiting':
      return { ...stage, note: event.reason ?? event.message };
    case 'failed':
    case 'cancelled':
      return {
        ...stage,
        phase: 'failed',
        finishedAt: event.at,
        note: `${event.type}: ${event.error?.code ?? ''}`,
      };
    case 'completed':
      return stage;
    default:
      return { ...stage, note: event.message };
  }
}

function podNote(event: MigrationEvent): string {
  const pod = event.pod ? `${event.pod.name}${event.pod.node ? ` on ${event.pod.node}` : ''}` : '';
  switch (event.type) {
    case 'new-pod-created':
      return `new pod ${pod} created`;
    case 'pod-ready':
      return 'new pod Ready';
    default:
      return 'original removed';
  }
}

export interface FrameOptions {
  now: Date;
  /** Columns of the terminal; lines are cut to fit, so that redrawing stays aligned. */
  width: number;
}

/** The lines of the live view at `now`. */
export function renderFrame(state: ProgressState, options: FrameOptions): string[] {
  const barWidth = Math.max(10, Math.min(30, options.width - 50));
  const lines = [`migration ${state.migrationId}  ${state.subject}  ${state.status}`];

  for (const name of STAGE_NAMES) {
    const stage = state.stages[name];
    const elapsed = elapsedOf(stage, options.now);
    const gauge = `${bar(stage.fraction, barWidth)} ${percent(stage.fraction)}`;
    lines.push(`  ${name.padEnd(8)}${gauge}  ${stage.note}${elapsed}`);
  }
  if (state.lastEvent) lines.push(`  ${clock(state.lastEvent.at)} ${state.lastEvent.message}`);
  return lines.map((line) => fit(line, options.width));
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`.padStart(4);
}

function elapsedOf(stage: StageProgress, now: Date): string {
  if (stage.startedAt === null) return '';
  const end = stage.finishedAt === null ? now.getTime() : Date.parse(stage.finishedAt);
  const ms = Math.max(0, end - Date.parse(stage.startedAt));
  return `  ${formatDuration(ms)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** HH:MM:SS of an ISO time, in UTC as the server writes it. */
export function clock(iso: string): string {
  return iso.length >= 19 ? iso.slice(11, 19) : iso;
}

function fit(line: string, width: number): string {
  return line.length <= width - 1 ? line : `${line.slice(0, Math.max(0, width - 2))}…`;
}

/** One line per event, for output that is not a terminal (logs, pipes). */
export function eventLine(event: MigrationEvent): string {
  const stage = (event.stage ?? '-').padEnd(8);
  return `${clock(event.at)} ${stage}${event.type.padEnd(18)}${event.message}`;
}
