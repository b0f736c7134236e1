import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ApiException, AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord, PolicyRun } from '@aso/shared';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';
import { isReady, OrchestratorHarness } from '../support/orchestrator-harness.ts';
import { grantedAttributes, requestAttributes } from '../support/rbac-calls.ts';
import { mayDo, narrowBindingsTo } from '../support/rbac-narrowing.ts';
import { FORBIDDEN_TO, FORBIDDEN_TO_ALL } from '../support/rbac-probes.ts';
import {
  applyBase,
  deleteBase,
  renderKustomization,
  serviceIdentities,
  SERVICE_ACCOUNTS,
  type ServiceIdentity,
} from '../support/service-identities.ts';
import { claimPodSpec, podEventReasons, staticClaim } from '../support/static-claim.ts';
import type { SystemService } from '../support/system.ts';

/**
 * Runs the whole system with the ServiceAccounts of k8s/base, each service with its
 * own token: every migration path must succeed without a refused call, every granted
 * rule must be used, and a sample of calls outside the grants must be forbidden.
 */

const RBAC_FILE = new URL('../../k8s/base/rbac.yaml', import.meta.url);
const SERVICES = Object.keys(SERVICE_ACCOUNTS) as SystemService[];

let admin: KubeConfig;
let dir: string;
let identities: Record<SystemService, ServiceIdentity>;
let h: OrchestratorHarness;
const volumes: { delete(): Promise<void> }[] = [];

beforeAll(async () => {
  const adminPath = inject('kubeconfigPath');
  admin = loadTestKubeConfig();
  await applyBase(adminPath);
  dir = await mkdtemp(join(tmpdir(), 'aso-rbac-'));
  identities = await serviceIdentities(admin, dir);
  await Promise.all(SERVICES.map((service) => bindingsInEffect(identities[service])));

  h = await OrchestratorHarness.start('rbac', adminPath, {
    // The metrics worker evaluates the load policy of its test every second.
    policyIntervalSeconds: 1,
    serviceKubeconfigs: Object.fromEntries(
      SERVICES.map((service) => [service, identities[service].recordedKubeconfigPath]),
    ),
  });
});

afterAll(async () => {
  await h.stop();
  await Promise.all(volumes.map((volume) => volume.delete()));
  await Promise.all(SERVICES.map((service) => identities[service].recorder.close()));
  await deleteBase(inject('kubeconfigPath'));
  await rm(dir, { recursive: true, force: true });
});

/** The authorizer caches bindings: wait until it sees this account's. */
async function bindingsInEffect(identity: ServiceIdentity): Promise<void> {
  const attributes = identity.serviceAccount.endsWith('metrics-worker')
    ? 'get metrics.k8s.io/pods'
    : 'get /pods';

  await eventually(() => mayDo(identity.kubeConfig, attributes, 'default'), {
    what: `the bindings of ${identity.serviceAccount} in effect`,
    timeoutMs: 15_000,
  });
}

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 6)}`;
}

async function migrate(body: Record<string, unknown>): Promise<MigrationRecord> {
  const accepted = await h.submit({ timeout: 120, ...body });
  return h.finished(accepted.migration_id, 120_000);
}

function eventsOf(pod: string): Promise<string[]> {
  return podEventReasons(h.core, h.namespace.name, pod);
}

// Independent pods, so the paths run side by side and the file stays short.
describe.concurrent('every migration path, each service under its own ServiceAccount', () => {
  it('make-before-break with a checkpoint claim and measured usage', async ({ expect }) => {
    const pod = await h.podOn(
      'worker-1',
      { prefix: 'mbb', annotations: { 'sim.aso.dev/usage': 'app=200m/64Mi' } },
      isReady,
    );
    const name = pod.metadata?.name ?? '';
    await eventually(() => h.podMetricsExist(name), { what: `metrics of ${name}` });

    const record = await migrate({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: true,
    });

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.details).toMatchObject({
      strategy: 'make-before-break',
      removal: 'evicted',
      new_pod_node: 'worker-2',
      pv_claim_name: `${name}-checkpoint`,
    });
    expect(record.progress.claim_created).toBe(true);
    expect(record.details.original_resources?.measured.status).toBe('measured');
    expect(await eventsOf(name)).toEqual(
      expect.arrayContaining(['MigrationPlanned', 'MigrationStarted', 'OriginalEvicted']),
    );
    expect(await eventsOf(record.details.new_pod_name ?? '')).toEqual(
      expect.arrayContaining(['NewPodCreated', 'NewPodReady']),
    );
  });

  it('break-before-make for a ReadWriteOnce claim', async ({ expect }) => {
    const claim = await staticClaim(h.core, h.namespace.name, unique('rwo'));
    volumes.push(claim);
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'bbm',
        spec: claimPodSpec(claim.name),
      },
      isReady,
    );

    const record = await migrate({
      pod_name: pod.metadata?.name ?? '',
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.details).toMatchObject({
      strategy: 'break-before-make',
      removal: 'evicted',
      new_pod_node: 'worker-2',
    });
  });

  it('replicaset-handoff for a pod of a Deployment', async ({ expect }) => {
    const name = unique('web');
    const apps = admin.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: h.namespace.name,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'web', image: 'nginx:1.27' }],
            },
          },
        },
      },
    });
    const original = await eventually(
      async () => {
        const list = await h.core.listNamespacedPod({
          namespace: h.namespace.name,
          labelSelector: `app=${name}`,
        });
        return list.items.find(isReady);
      },
      { what: `a Ready replica of ${name}` },
    );
    const source = original.spec?.nodeName ?? '';
    const target = ['worker-1', 'worker-2', 'worker-3'].find((node) => node !== source) ?? '';

    const record = await migrate({
      pod_name: original.metadata?.name ?? '',
      source_node: source,
      target_node: target,
    });

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.details).toMatchObject({
      strategy: 'replicaset-handoff',
      removal: 'replicaset',
      new_pod_node: target,
    });
    expect(await eventsOf(record.details.new_pod_name ?? '')).toEqual(
      expect.arrayContaining(['JoinedReplicaSet']),
    );
  });

  it('a dry run answers the plan and creates nothing', async ({ expect }) => {
    const pod = await h.podOn('worker-3', { prefix: 'dry' }, isReady);
    const name = pod.metadata?.name ?? '';

    const answer = await h.post({
      pod_name: name,
      source_node: 'worker-3',
      target_node: 'worker-1',
      dry_run: true,
    });

    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ plan: { volumes: { strategy: 'make-before-break' } } });
    const pods = await h.core.listNamespacedPod({ namespace: h.namespace.name });
    expect(pods.items.filter((p) => p.metadata?.name?.startsWith(`${name}-m`))).toEqual([]);
  });

  it('a refused request answers the pre-flight problem', async ({ expect }) => {
    const pod = await h.podOn('worker-3', { prefix: 'refused' });

    const problem = await h.refused({
      pod_name: pod.metadata?.name ?? '',
      source_node: 'worker-3',
      target_node: 'worker-9',
    });

    expect(problem).toMatchObject({ status: 422, code: 'target-node-not-found' });
  });

  it('a load policy in dry run, evaluated by the metrics worker', async ({ expect }) => {
    const claim = await staticClaim(h.core, h.namespace.name, unique('policy'));
    volumes.push(claim);
    const label = unique('policy');
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'policy',
        labels: { rbac: label },
        annotations: { 'sim.aso.dev/usage': 'app=300m/64Mi' },
        spec: claimPodSpec(claim.name),
      },
      isReady,
    );
    const name = pod.metadata?.name ?? '';
    await eventually(() => h.podMetricsExist(name), { what: `metrics of ${name}` });

    const put = await h.api('/api/v1/policies', {
      method: 'POST',
      body: JSON.stringify({
        name: 'rbac-policy',
        namespace: h.namespace.name,
        selector: { match_labels: { rbac: label } },
        metric: 'cpu',
        threshold: '100m',
        for_seconds: 0,
        target_nodes: ['worker-3'],
        dry_run: true,
      }),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);

    // Listing by selector, the usage, the target's choice and the pre-flight with a claim.
    const seen = await eventually(
      async () => {
        const { body } = await h.api('/api/v1/policies/rbac-policy');
        return (body as { evaluations: PolicyRun[] }).evaluations
          .flatMap((run) => run.pods)
          .find((p) => p.pod === name && p.decision === 'would-migrate');
      },
      { what: `the policy to decide would-migrate for ${name}`, timeoutMs: 60_000 },
    );
    expect(seen.target_node).toBe('worker-3');
    await h.api('/api/v1/policies/rbac-policy', { method: 'DELETE' });
  });

  it('a rollback when the new pod never becomes Ready', async ({ expect }) => {
    const original = await h.podOn('worker-3', {
      prefix: 'stuck',
      annotations: { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' },
    });
    const name = original.metadata?.name ?? '';

    const record = await migrate({
      pod_name: name,
      source_node: 'worker-3',
      target_node: 'worker-2',
      preserve_pv: true,
      timeout: 30,
    });

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({
      code: 'new-pod-not-ready',
      stage: 'pod',
      rolled_back: true,
    });
    expect((await h.readPodOrNull(name))?.metadata?.uid).toBe(original.metadata?.uid);
    await eventually(
      async () => {
        const claim = await h.core
          .readNamespacedPersistentVolumeClaim({
            name: `${name}-checkpoint`,
            namespace: h.namespace.name,
          })
          .catch(() => null);
        return claim === null || Boolean(claim.metadata?.deletionTimestamp);
      },
      { what: `the checkpoint claim of ${name} to be removed` },
    );
    expect(await eventsOf(name)).toEqual(expect.arrayContaining(['MigrationRolledBack']));
  });
});

// After the paths above: a drain takes every pod of its node as a member.
describe('a batch and a drain under the gateway identity', () => {
  it('lists nodes for "any node", cordons a node and uncordons it on cancel', async () => {
    await h.podOn('worker-2', { prefix: 'batch', labels: { rbac: 'batch' } }, isReady);
    const batch = await h.api('/api/v1/batches', {
      method: 'POST',
      body: JSON.stringify({
        namespace: h.namespace.name,
        match_labels: { rbac: 'batch' },
        timeout: 120,
      }),
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    const [member] = (batch.body as { members: { migration_id: string | null }[] }).members;
    expect((await h.finished(member?.migration_id ?? '', 120_000)).status).toBe('completed');

    const drain = await h.api('/api/v1/drains', {
      method: 'POST',
      body: JSON.stringify({ node: 'worker-3', timeout: 60 }),
    });
    expect(drain.status, JSON.stringify(drain.body)).toBe(202);
    const { batch_id: drainId, members } = drain.body as {
      batch_id: string;
      members: { migration_id: string | null }[];
    };
    const cancel = await h.api(`/api/v1/drains/${drainId}`, { method: 'DELETE' });

    expect(cancel.body).toMatchObject({ uncordoned: true });
    expect((await h.core.readNode({ name: 'worker-3' })).spec?.unschedulable).toBeFalsy();
    for (const { migration_id: id } of members) if (id !== null) await h.finished(id, 120_000);
  });
});

describe('what the services asked the apiserver', () => {
  it.each(SERVICES)('%s was refused nothing and used every rule it is granted', async (service) => {
    const { recorder, serviceAccount } = identities[service];

    const refused = recorder.calls
      .filter((call) => call.status === 401 || call.status === 403)
      .map((call) => `${call.status} ${call.method} ${call.path}`);
    expect(refused).toEqual([]);

    const used = new Set(recorder.calls.flatMap((call) => requestAttributes(call) ?? []));
    const granted = await grantedAttributes(
      RBAC_FILE,
      (role) => role === serviceAccount || role === `${serviceAccount}-cluster`,
    );
    expect([...used].sort()).toEqual([...granted].sort());
  });
});

async function statusOf(call: Promise<unknown>): Promise<number | 'allowed'> {
  try {
    await call;
    return 'allowed';
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe('calls outside the grants', () => {
  it.each(SERVICES)('are forbidden to %s', async (service) => {
    const { kubeConfig } = identities[service];
    const probes = [...FORBIDDEN_TO_ALL, ...FORBIDDEN_TO[service]];

    const answers = await Promise.all(
      probes.map(async ([what, call]) => [
        what,
        await statusOf(call(kubeConfig, h.namespace.name)),
      ]),
    );

    expect(Object.fromEntries(answers)).toEqual(
      Object.fromEntries(probes.map(([what]) => [what, 403])),
    );
  });
});

describe('bindings narrowed to one namespace, as k8s/examples/namespaced-rbac does', () => {
  let other: TestNamespace;
  let callsBefore: Record<SystemService, number>;

  beforeAll(async () => {
    other = await createTestNamespace(admin, 'rbac-other');
    callsBefore = Object.fromEntries(
      SERVICES.map((service) => [service, identities[service].recorder.calls.length]),
    ) as Record<SystemService, number>;
    await narrowBindingsTo(admin, h.namespace.name);

    // The pod worker loses every right in the other namespace once the authorizer sees it.
    await eventually(
      async () => !(await mayDo(identities.pod.kubeConfig, 'get /pods', other.name)),
      { what: 'the narrowed bindings in effect', timeoutMs: 15_000 },
    );
  });

  afterAll(async () => {
    await other.delete();
  });

  it('the example overlay swaps the namespaced ClusterRoleBindings for RoleBindings', async () => {
    const documents = await renderKustomization(
      inject('kubeconfigPath'),
      'examples/namespaced-rbac',
    );
    const named = (kind: string) =>
      documents
        .filter((d) => d.kind === kind)
        .map((d) => `${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`)
        .sort();

    expect(named('ClusterRoleBinding')).toEqual(
      SERVICES.map((service) => `/${SERVICE_ACCOUNTS[service]}-cluster`).sort(),
    );
    expect(named('RoleBinding')).toEqual(
      Object.values(SERVICE_ACCOUNTS)
        .map((account) => `ml-training/${account}`)
        .sort(),
    );
  });

  it.each(SERVICES)('%s keeps its rights in that namespace only', async (service) => {
    const { kubeConfig, serviceAccount } = identities[service];
    const namespaced = await grantedAttributes(RBAC_FILE, (role) => role === serviceAccount);
    const clusterWide = await grantedAttributes(
      RBAC_FILE,
      (role) => role === `${serviceAccount}-cluster`,
    );

    const answers = async (namespace: string | undefined, attributes: Set<string>) =>
      Object.fromEntries(
        await Promise.all(
          [...attributes].map(async (a) => [a, await mayDo(kubeConfig, a, namespace)] as const),
        ),
      );
    const all = (attributes: Set<string>, allowed: boolean) =>
      Object.fromEntries([...attributes].map((a) => [a, allowed]));

    expect(await answers(h.namespace.name, namespaced)).toEqual(all(namespaced, true));
    expect(await answers(other.name, namespaced)).toEqual(all(namespaced, false));
    expect(await answers(undefined, clusterWide)).toEqual(all(clusterWide, true));
  });

  it('still migrates in that namespace without a refused call', async () => {
    const pod = await h.podOn('worker-2', { prefix: 'narrow' }, isReady);

    const record = await migrate({
      pod_name: pod.metadata?.name ?? '',
      source_node: 'worker-2',
      target_node: 'worker-3',
      preserve_pv: true,
    });

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    const refused = SERVICES.flatMap((service) =>
      identities[service].recorder.calls
        .slice(callsBefore[service])
        .filter((call) => call.status === 401 || call.status === 403)
        .map((call) => `${service}: ${call.status} ${call.method} ${call.path}`),
    );
    expect(refused).toEqual([]);
  });
});
