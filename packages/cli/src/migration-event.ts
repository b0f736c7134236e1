/**
 * A migration's progress event as GET /api/v1/migrations/:id/events sends it
 * (docs/events.md). Typed loosely on purpose: the client may meet a newer server,
 * and an event type it does not know is shown, not refused.
 */
export type StageName = 'capture' | 'pod' | 'metrics';

export const STAGE_NAMES: readonly StageName[] = ['capture', 'pod', 'metrics'];

export interface EventError {
  code: string;
  message: string;
  rolled_back: boolean;
}

export interface MigrationEvent {
  type: string;
  migration_id: string;
  at: string;
  stage: StageName | null;
  status: string;
  message: string;
  attempt?: number;
  reason?: string;
  next_stage?: StageName | null;
  pod?: { name: string; node: string | null };
  error?: EventError;
  undone?: string[];
  derived?: true;
}

export const TERMINAL_TYPES = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(event: MigrationEvent): boolean {
  return TERMINAL_TYPES.has(event.type);
}

/** The least an event must carry to be shown; anything else in `data` is ignored. */
export function parseEvent(data: string): MigrationEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;

  const event = value as Partial<MigrationEvent>;
  if (typeof event.type !== 'string' || typeof event.message !== 'string') return undefined;
  return {
    ...event,
    type: event.type,
    message: event.message,
    migration_id: event.migration_id ?? '',
    at: event.at ?? new Date().toISOString(),
    stage: STAGE_NAMES.includes(event.stage as StageName) ? (event.stage as StageName) : null,
    status: event.status ?? '',
  };
}
