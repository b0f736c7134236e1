import type { MigrationRecord, MigrationStore } from '@aso/shared';

import type { BatchMember, BatchRecord } from './batch-store.ts';

/**
 * A member as answered: its migration's current status and message, or `refused`
 * (never started: why is in `refused`) or `expired` (its record outlived its
 * retention time).
 */
export type MemberStatus = MigrationRecord['status'] | 'refused' | 'expired';

export const MEMBER_STATUSES = [
  'pending',
  'waiting',
  'running',
  'completed',
  'failed',
  'cancelled',
  'refused',
  'expired',
] as const satisfies readonly MemberStatus[];

/**
 * running: a member has not ended. cancelled: a cancel was asked and every member
 * has ended. completed: every member completed (a drain with nothing to move too),
 * and a drain left no movable pod behind. failed: none completed. partially-failed:
 * some did, some did not, or a drain's members did but it left movable pods behind.
 */
export type BatchStatus = 'running' | 'completed' | 'partially-failed' | 'failed' | 'cancelled';

export interface MemberView extends BatchMember {
  status: MemberStatus;
  message: string;
  error: { code: string; message: string } | null;
}

export interface BatchView extends Omit<BatchRecord, 'members'> {
  status: BatchStatus;
  members: MemberView[];
  summary: { members: number; by_status: Record<MemberStatus, number> };
}

/** The batch with each member's current state, read from its migration record. */
export async function batchView(store: MigrationStore, batch: BatchRecord): Promise<BatchView> {
  const records = await Promise.all(
    batch.members.map((member) =>
      member.migration_id === null ? Promise.resolve(null) : store.get(member.migration_id),
    ),
  );
  const members = batch.members.map((member, index) => memberView(member, records[index] ?? null));

  const byStatus = Object.fromEntries(MEMBER_STATUSES.map((status) => [status, 0])) as Record<
    MemberStatus,
    number
  >;
  for (const member of members) byStatus[member.status] += 1;

  return {
    ...batch,
    status: batchStatus(batch, members),
    members,
    summary: { members: members.length, by_status: byStatus },
  };
}

function memberView(member: BatchMember, record: MigrationRecord | null): MemberView {
  if (member.refused !== null) {
    return { ...member, status: 'refused', message: member.refused.detail, error: null };
  }
  if (record === null) {
    const message = 'the migration record has expired after its retention time';
    return { ...member, status: 'expired', message, error: null };
  }
  const error = record.error ? { code: record.error.code, message: record.error.message } : null;
  return { ...member, status: record.status, message: record.message, error };
}

function batchStatus(batch: BatchRecord, members: MemberView[]): BatchStatus {
  const unfinished = members.some((m) => ['pending', 'waiting', 'running'].includes(m.status));
  if (unfinished) return 'running';
  if (batch.cancel_requested_at !== null) return 'cancelled';

  const completed = members.filter((m) => m.status === 'completed').length;
  // A drain that left movable pods behind has not emptied its node.
  const notMoved = batch.drain?.not_moved ?? 0;
  if (completed === members.length && notMoved === 0) return 'completed';
  if (completed === members.length && completed > 0) return 'partially-failed';
  return completed === 0 ? 'failed' : 'partially-failed';
}

/** A member's record, unfinished: what a cancel can still act on. */
export function cancellable(member: MemberView): boolean {
  return member.migration_id !== null && ['pending', 'waiting', 'running'].includes(member.status);
}
