import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';

import {
  DeadlineExceededError,
  InvalidStagePayloadError,
  isPermanent,
  MigrationCancelledError,
  OrchestratorError,
  WorkerLostError,
} from './errors.ts';
import type { Logger } from './logger.ts';
import { eventError } from './migration-events-log.ts';
import type { StageMetrics, StageOutcome } from './metrics.ts';
import {
  cancelRequested,
  isFinished,
  switchStarted,
  type MigrationRecord,
  type Stage,
} from './migration.ts';
import { finishAsCancelled, type InFlightCaps, type MigrationStore } from './migration-store.ts';
import { QUEUE_NAMES, STAGE_ATTEMPTS, stagePayloadSchema, type StagePayload } from './queues.ts';
import type { RedisClient } from './redis.ts';
import type { StageQueues } from './stage-queues.ts';

export interface StageContext {
  /** The record as it was when the attempt started; update it through `store`. */
  record: MigrationRecord;
  store: MigrationStore;
  log: Logger;
  attempt: number;
  now(): Date;
  /** Milliseconds left before the migration's deadline (never negative). */
  remainingMs(): number;
  /**
   * Aborted when an operator cancels the migration while this attempt runs; long
   * waits end on it. Its reason is a MigrationCancelledError.
   */
  signal: AbortSignal;
}

export interface StageResult {
  /** The stage that takes the migration on, and how long it should wait first. */
  next?: { stage: Stage; delayMs?: number };
}

export interface StageHandler {
  stage: Stage;
  /**
   * Whether the migration's deadline still applies when an attempt of this stage
   * starts; a function when that depends on how far the migration got.
   */
  honoursDeadline: boolean | ((record: MigrationRecord) => boolean);
  run(context: StageContext): Promise<StageResult>;
  /**
   * Undoes what the migration did so far so that the original pod keeps running.
   * Returns what it undid, for the record. Must be safe to call more than once.
   */
  rollback?(context: StageContext): Promise<string[]>;
  /**
   * Set on the stage that lets migrations in: before its first attempt works, the
   * migration must find a place within the caps on migrations in flight. Until it
   * does it waits in its queue, status "waiting", for retryDelayMs at a time.
   */
  admission?: { caps: InFlightCaps; retryDelayMs: number };
  /**
   * Called after a final failure, before any rollback. When the migration is past
   * its point of no return and the workload already runs in its new place, a
   * rollback would undo nothing: the stage records why and names the next stage
   * instead. Null lets the rollback go ahead.
   */
  salvage?(context: StageContext, error: unknown): Promise<StageResult | null>;
}

/** How often a running attempt looks for an operator's cancel. */
const CANCEL_POLL_MS = 1_000;

/** Raised by markStarted when the migration ended before this attempt began. */
class MigrationAlreadyFinished extends Error {}

export interface StageWorkerOptions {
  handler: StageHandler;
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  /** BullMQ's lock and stalled-job settings; its defaults when absent. */
  locks?: JobLockSettings;
  store: MigrationStore;
  queues: StageQueues;
  metrics: StageMetrics;
  logger: Logger;
  now?: () => Date;
}

export interface JobLockSettings {
  /** Lifetime of a job's lock, renewed every half of it while the worker lives, in ms. */
  lockDurationMs: number;
  /** How often the worker looks for jobs whose lock lapsed, in ms. */
  stalledIntervalMs: number;
  /** Times a job may lose its worker before BullMQ fails it. */
  maxStalledCount: number;
}

/**
 * Wraps a stage handler in a BullMQ worker. The wrapper owns everything the stages
 * share: payload parsing, the record's stage timings, deadlines, retries of
 * transient failures only, rollback and the failed record on a final failure,
 * the hand-off to the next stage, metrics and logs.
 */
export function createStageWorker(options: StageWorkerOptions): Worker<StagePayload> {
  const { handler, connection, prefix, concurrency, logger } = options;

  const worker = new Worker<StagePayload>(
    QUEUE_NAMES[handler.stage],
    async function processStageJob(job, token) {
      await runStageJob(options, job, token);
    },
    {
      connection,
      prefix,
      concurrency,
      autorun: false,
      // A stage may wait minutes (readiness, a disruption budget): the lock is renewed
      // all along, so only a dead worker's job is taken up by another one.
      ...(options.locks && {
        lockDuration: options.locks.lockDurationMs,
        stalledInterval: options.locks.stalledIntervalMs,
        maxStalledCount: options.locks.maxStalledCount,
      }),
    },
  );

  worker.on('error', (err) => {
    logger.error({ err, stage: handler.stage }, 'stage worker error');
  });
  worker.on('failed', (job, err) => {
    if (job?.finishedOn) void failOutsideProcessor(options, job, err);
  });
  return worker;
}

/**
 * A job can fail for good without our processor deciding it: BullMQ fails a job
 * whose worker died more often than maxStalledCount allows. The migration must not
 * stay "running" forever then: roll it back and record the failure here.
 */
async function failOutsideProcessor(
  options: StageWorkerOptions,
  job: Job<StagePayload>,
  err: Error,
): Promise<void> {
  try {
    const parsed = stagePayloadSchema.safeParse(job.data);
    const record = parsed.success ? await options.store.get(parsed.data.migrationId) : null;
    if (!record || isFinished(record)) return;

    const context = buildContext(options, record, job, options.now ?? (() => new Date()));
    context.log.error({ err }, 'stage job failed outside the processor');
    // BullMQ's own reason names no code of ours: the only such failure is a lost worker.
    const lost = new WorkerLostError(options.handler.stage, err.message);
    if (await salvaged(options, context, lost)) return;

    const rolledBack = await rollback(options.handler, context);
    const ended = await options.store.update(record.migration_id, (r) => {
      markFailed(r, options.handler.stage, lost, rolledBack, context.now());
    });
    options.metrics.countFinished(ended);
    await emitEnd(options, context, ended);
  } catch (error) {
    options.logger.error({ err: error, jobId: job.id }, 'could not record a failed stage job');
  }
}

async function runStageJob(
  options: StageWorkerOptions,
  job: Job<StagePayload>,
  token: string | undefined,
): Promise<void> {
  const { handler, metrics } = options;
  const startedMs = Date.now();
  metrics.observeWait(
    handler.stage,
    Math.max(0, (job.processedOn ?? startedMs) - job.timestamp) / 1000,
  );

  const outcome = await attemptStage(options, job, token).catch((error: unknown) => {
    metrics.observeRun(handler.stage, 'retried', (Date.now() - startedMs) / 1000);
    throw error;
  });

  metrics.observeRun(handler.stage, outcome, (Date.now() - startedMs) / 1000);
  if (outcome === 'failed') {
    throw new UnrecoverableError(`stage ${handler.stage} failed for good`);
  }
  // The job was moved back to the delayed set; BullMQ must not complete it.
  if (outcome === 'waited') throw new DelayedError();
}

async function attemptStage(
  options: StageWorkerOptions,
  job: Job<StagePayload>,
  token: string | undefined,
): Promise<StageOutcome> {
  const { handler, store } = options;
  const now = options.now ?? (() => new Date());
  const payload = parsePayload(job.data);
  const skipped = () => {
    options.logger.warn(
      { migrationId: payload.migrationId, stage: handler.stage },
      'stage job skipped',
    );
    return 'skipped' as const;
  };

  const existing = await store.get(payload.migrationId);
  if (!existing || isFinished(existing)) return skipped();
  if (!(await admitted(options, existing, job, token))) return 'waited';

  const admits = handler.admission !== undefined;
  const record = await markStarted(store, handler.stage, payload.migrationId, now(), admits).catch(
    (error: unknown) => {
      if (error instanceof MigrationAlreadyFinished) return null;
      throw error;
    },
  );
  if (!record) return skipped();

  const cancel = new AbortController();
  const context = buildContext(options, record, job, now, cancel.signal);
  const stopWatching = watchForCancel(store, record.migration_id, cancel);
  const stopTracking = options.metrics.trackAttempt(
    handler.stage,
    deadlineIfHonoured(handler, record),
  );

  try {
    const attempt = record.stages[handler.stage].attempts;
    await store.events.emit(
      record,
      {
        type: 'stage-started',
        message: `${handler.stage} stage started (attempt ${attempt})`,
        attempt,
      },
      context.log,
      context.now(),
    );
    checkCancel(context);
    checkDeadline(handler, context);
    context.log.info('stage started');

    const result = await handler.run(context);

    await finishStage(options, context, result);
    return 'succeeded';
  } catch (error) {
    return await handleFailure(options, context, error, job);
  } finally {
    stopWatching();
    stopTracking();
  }
}

/** Records the stage's end and hands the migration to the next stage, if any. */
async function finishStage(
  options: StageWorkerOptions,
  context: StageContext,
  result: StageResult,
): Promise<void> {
  const { handler, store, queues } = options;
  const next = result.next;
  const id = context.record.migration_id;

  const after = await store.update(id, (r) => {
    r.stages[handler.stage].finished_at = context.now().toISOString();
    r.stages[handler.stage].last_error = null;
    if (next && !isFinished(r)) {
      r.stage = next.stage;
      r.message = `handed to the ${next.stage} stage`;
    }
  });
  // Told before the next stage is queued, so that its start never comes first.
  await store.events.emit(
    after,
    {
      type: 'stage-finished',
      stage: handler.stage,
      message: `${handler.stage} stage finished`,
      next_stage: next?.stage ?? null,
    },
    context.log,
    context.now(),
  );
  if (next) await queues.enqueue(next.stage, id, next.delayMs);
  context.log.info({ next: next?.stage ?? null }, 'stage finished');
  if (after.status === 'completed') {
    options.metrics.countFinished(after);
    await emitEnd(options, context, after);
  }
}

/** The terminal event of a migration that has just ended. */
async function emitEnd(
  options: StageWorkerOptions,
  context: StageContext,
  ended: MigrationRecord,
): Promise<void> {
  const type = ended.status;
  if (type !== 'completed' && type !== 'failed' && type !== 'cancelled') return;

  const error = eventError(ended);
  await options.store.events.emit(
    ended,
    { type, stage: options.handler.stage, message: ended.message, ...(error && { error }) },
    context.log,
    context.now(),
  );
}

/** Whether the handler carried the migration forward after a final failure. */
async function salvaged(
  options: StageWorkerOptions,
  context: StageContext,
  error: unknown,
): Promise<boolean> {
  if (!options.handler.salvage) return false;

  try {
    const result = await options.handler.salvage(context, error);
    if (!result) return false;
    context.log.warn({ err: error }, 'stage failed past the point of no return; carried forward');
    await finishStage(options, context, result);
    return true;
  } catch (salvageError) {
    context.log.error({ err: salvageError }, 'could not carry the migration forward');
    return false;
  }
}

/**
 * The admission of a stage that lets migrations in: a place within the caps, or the
 * job goes back to the delayed set (no attempt spent) and the record says why it
 * waits. A migration past its deadline is let through, to fail as any late one does.
 */
async function admitted(
  options: StageWorkerOptions,
  record: MigrationRecord,
  job: Job<StagePayload>,
  token: string | undefined,
): Promise<boolean> {
  const admission = options.handler.admission;
  const now = options.now ?? (() => new Date());
  if (!admission) return true;
  // A batch member's timeout has not begun while it waits (see markStarted).
  if (!record.batch && Date.parse(record.deadline_at) <= now().getTime()) return true;

  const verdict = await options.store.admit(record, admission.caps);
  if (verdict.admitted) return true;

  const message = `waiting for a place in flight: ${verdict.reason}`;
  if (record.status !== 'waiting' || record.message !== message) {
    const held = await options.store.update(record.migration_id, (r) => {
      if (isFinished(r) || r.status === 'running') return;
      r.status = 'waiting';
      r.message = message;
    });
    if (held.status === 'waiting') {
      const log = options.logger.child({ migrationId: record.migration_id });
      await options.store.events.emit(
        held,
        { type: 'waiting', message, reason: verdict.reason },
        log,
        now(),
      );
    }
  }
  await job.moveToDelayed(Date.now() + admission.retryDelayMs, token);
  return false;
}

/** Polls the record while the attempt runs and aborts it when an operator cancels. */
function watchForCancel(
  store: MigrationStore,
  migrationId: string,
  cancel: AbortController,
): () => void {
  const timer = setInterval(() => {
    store.get(migrationId).then(
      (record) => {
        if (record && cancelRequested(record) && !switchStarted(record)) {
          cancel.abort(new MigrationCancelledError(migrationId));
        }
      },
      // Redis away: the next poll tries again; the attempt itself will notice too.
      () => undefined,
    );
  }, CANCEL_POLL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}

function parsePayload(data: unknown): StagePayload {
  const parsed = stagePayloadSchema.safeParse(data);
  if (!parsed.success) {
    // A malformed job can never succeed; retrying it would only hide the bug.
    throw new UnrecoverableError(new InvalidStagePayloadError(parsed.error.message).message);
  }
  return parsed.data;
}

function markStarted(
  store: MigrationStore,
  stage: Stage,
  migrationId: string,
  now: Date,
  admits: boolean,
): Promise<MigrationRecord> {
  return store.update(migrationId, (record) => {
    // A cancel may have ended a waiting migration since the job was picked up.
    if (isFinished(record)) throw new MigrationAlreadyFinished();
    const timing = record.stages[stage];
    // A batch member's timeout counts from its admission, not from its creation:
    // members wait their turn behind the batch's and the node's caps, which would
    // otherwise spend the deadline of the last ones before they ever start.
    if (admits && record.batch && timing.started_at === null) {
      record.deadline_at = new Date(now.getTime() + record.request.timeout * 1000).toISOString();
    }
    record.status = 'running';
    record.stage = stage;
    record.message = `${stage} stage running`;
    timing.started_at ??= now.toISOString();
    timing.attempts += 1;
  });
}

function buildContext(
  options: StageWorkerOptions,
  record: MigrationRecord,
  job: Job<StagePayload>,
  now: () => Date,
  signal: AbortSignal = new AbortController().signal,
): StageContext {
  const deadline = Date.parse(record.deadline_at);
  const log = options.logger.child({
    migrationId: record.migration_id,
    stage: options.handler.stage,
    namespace: record.request.pod_namespace,
    pod: record.request.pod_name,
    attempt: job.attemptsMade + 1,
  });

  return {
    record,
    store: options.store,
    log,
    attempt: job.attemptsMade + 1,
    now,
    remainingMs: () => Math.max(0, deadline - now().getTime()),
    signal,
  };
}

function checkCancel(context: StageContext): void {
  if (cancelRequested(context.record)) {
    throw new MigrationCancelledError(context.record.migration_id);
  }
}

function checkDeadline(handler: StageHandler, context: StageContext): void {
  if (deadlineIfHonoured(handler, context.record) !== null && context.remainingMs() === 0) {
    throw new DeadlineExceededError(context.record.request.timeout);
  }
}

/** The migration's deadline in epoch ms, when it applies to this stage's attempt. */
function deadlineIfHonoured(handler: StageHandler, record: MigrationRecord): number | null {
  const applies =
    typeof handler.honoursDeadline === 'function'
      ? handler.honoursDeadline(record)
      : handler.honoursDeadline;
  return applies ? Date.parse(record.deadline_at) : null;
}

async function handleFailure(
  options: StageWorkerOptions,
  context: StageContext,
  error: unknown,
  job: Job<StagePayload>,
): Promise<StageOutcome> {
  const { handler, store, metrics } = options;
  if (error instanceof MigrationCancelledError || context.signal.aborted) {
    return finishCancelled(options, context);
  }

  const attempts = job.opts.attempts ?? STAGE_ATTEMPTS;
  const final = isPermanent(error) || job.attemptsMade + 1 >= attempts;
  const message = error instanceof Error ? error.message : String(error);

  if (!final) {
    context.log.warn({ err: error }, 'stage attempt failed, will retry');
    const current = await store.update(context.record.migration_id, (r) => {
      r.stages[handler.stage].last_error = message;
    });
    const code = error instanceof OrchestratorError ? error.code : 'internal-error';
    await store.events.emit(
      current,
      {
        type: 'stage-retrying',
        message: `${handler.stage} stage attempt ${context.attempt} failed; it will be retried`,
        attempt: context.attempt,
        error: { code, message, rolled_back: false },
      },
      context.log,
      context.now(),
    );
    throw error;
  }

  if (await salvaged(options, context, error)) return 'succeeded';

  if (isPermanent(error)) {
    // A refusal (pod gone, nothing to run, ...) is an outcome, not a fault of ours.
    const code = error instanceof OrchestratorError ? error.code : 'unknown';
    context.log.warn({ code, reason: message }, 'stage refused, rolling back');
  } else {
    context.log.error({ err: error }, 'stage failed, rolling back');
  }
  const rolledBack = await rollback(handler, context);
  const ended = await store.update(context.record.migration_id, (r) => {
    markFailed(r, handler.stage, error, rolledBack, context.now());
  });
  metrics.countFinished(ended);
  await emitEnd(options, context, ended);
  return 'failed';
}

/** An operator's cancel: undo what the migration did and end it as cancelled. */
async function finishCancelled(
  options: StageWorkerOptions,
  context: StageContext,
): Promise<StageOutcome> {
  context.log.info('migration cancelled on request, rolling back');
  const rolledBack = await rollback(options.handler, context);
  const ended = await options.store.update(context.record.migration_id, (r) => {
    finishAsCancelled(r, options.handler.stage, rolledBack, context.now());
  });
  options.metrics.countFinished(ended);
  await emitEnd(options, context, ended);
  return 'cancelled';
}

async function rollback(handler: StageHandler, context: StageContext): Promise<boolean> {
  if (!handler.rollback) return true;

  try {
    const undone = await handler.rollback(context);
    context.log.info({ undone }, 'rollback finished');
    // The event is a view only: a failed read must not turn a rollback into a failure.
    const record = await context.store.get(context.record.migration_id).catch(() => null);
    await context.store.events.emit(
      record ?? context.record,
      {
        type: 'rolled-back',
        stage: handler.stage,
        message:
          undone.length === 0
            ? 'rolled back: nothing to undo; the original keeps running'
            : `rolled back: ${undone.join('; ')}`,
        undone,
      },
      context.log,
      context.now(),
    );
    return true;
  } catch (err) {
    context.log.error({ err }, 'rollback failed');
    return false;
  }
}

function markFailed(
  record: MigrationRecord,
  stage: Stage,
  error: unknown,
  rolledBack: boolean,
  now: Date,
): void {
  const code = error instanceof OrchestratorError ? error.code : 'internal-error';
  const message = error instanceof Error ? error.message : String(error);

  record.status = 'failed';
  record.message = `migration failed in the ${stage} stage: ${message}`;
  record.error = { code, message, stage, rolled_back: rolledBack };
  record.stages[stage].last_error = message;
  record.finished_at = now.toISOString();
  record.duration_ms = now.getTime() - Date.parse(record.created_at);
}
