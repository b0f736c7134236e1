import { describe, expect, it } from 'vitest';

import {
  migrationRequestSchema,
  resolvedMigrationRequestSchema,
  resolveSourceNode,
} from './migration-request.ts';

const valid = { pod_name: 'tf-train-0', source_node: 'worker-1', target_node: 'worker-2' };

function issues(input: unknown): { field: string; message: string }[] {
  const parsed = migrationRequestSchema.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
}

describe('migration request', () => {
  it('fills the defaults', () => {
    expect(migrationRequestSchema.parse(valid)).toEqual({
      ...valid,
      pod_namespace: 'default',
      preserve_pv: false,
      dry_run: false,
      force: false,
      timeout: 600,
    });
  });

  it('names each invalid field', () => {
    const found = issues({
      pod_name: 'Bad_Name',
      pod_namespace: 'x'.repeat(64),
      source_node: 'worker-1',
      target_node: 7,
      preserve_pv: 'yes',
      timeout: 5,
    });

    expect(found.map((f) => f.field).sort()).toEqual(
      ['pod_name', 'pod_namespace', 'preserve_pv', 'target_node', 'timeout'].sort(),
    );
  });

  it('refuses a move to the same node', () => {
    expect(issues({ ...valid, target_node: 'worker-1' })).toEqual([
      { field: 'target_node', message: 'target_node must differ from source_node' },
    ]);
  });

  it('refuses unknown fields and missing ones', () => {
    expect(issues({ ...valid, podName: 'x' })[0]?.message).toMatch(/unknown field\(s\): podName/);
    expect(issues({ pod_name: 'a' }).map((f) => f.field)).toEqual(['target_node']);
  });

  it('leaves the source node to the pre-flight when the client names none', () => {
    const { source_node: _named, ...withoutSource } = valid;
    const parsed = migrationRequestSchema.parse(withoutSource);

    expect(parsed.source_node).toBeUndefined();
    expect(resolveSourceNode(parsed, 'worker-3').source_node).toBe('worker-3');
    expect(resolveSourceNode({ ...parsed, source_node: 'worker-1' }, 'worker-3').source_node).toBe(
      'worker-1',
    );
  });

  it('wants the source node on a stored request', () => {
    const { source_node: _named, ...withoutSource } = valid;

    expect(resolvedMigrationRequestSchema.safeParse(withoutSource).success).toBe(false);
    expect(
      resolvedMigrationRequestSchema.safeParse({ ...valid, target_node: 'worker-1' }).success,
    ).toBe(false);
  });

  it('bounds the timeout and wants whole seconds', () => {
    expect(issues({ ...valid, timeout: 3601 })[0]?.message).toMatch(/at most 3600/);
    expect(issues({ ...valid, timeout: 60.5 })[0]?.message).toMatch(/whole number/);
  });
});
