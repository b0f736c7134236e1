import type {
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Volume,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { VolumeCannotFollowError } from '../errors.ts';
import { claim, claimVolume, node, persistentVolume, pod } from './test-fixtures.ts';
import { checkVolumes } from './volumes.ts';

const worker2 = node('worker-2');

function check(
  volumes: V1Volume[],
  claims: V1PersistentVolumeClaim[] = [],
  persistentVolumes: V1PersistentVolume[] = [],
) {
  return checkVolumes({
    pod: pod('tf-train-0', { volumes }),
    claims,
    persistentVolumes,
    targetNode: worker2,
  });
}

const zonalAffinity = (zone: string) => ({
  required: {
    nodeSelectorTerms: [
      {
        matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }],
      },
    ],
  },
});

describe('volumes that follow freely', () => {
  it('makes before breaking when the pod has no volumes', () => {
    const result = check([]);

    expect(result.strategy).toBe('make-before-break');
    expect(result.strategy_reason).toMatch(/uses no claims/);
    expect(result.volumes).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('rebuilds configMap, secret, projected and downwardAPI volumes without a warning', () => {
    const result = check([
      { name: 'config', configMap: { name: 'trainer-config' } },
      { name: 'creds', secret: { secretName: 's3-credentials' } },
      { name: 'kube-api-access-x7k2p', projected: { sources: [] } },
      { name: 'podinfo', downwardAPI: { items: [] } },
    ]);

    expect(result.volumes.map((v) => [v.name, v.kind, v.single_node])).toEqual([
      ['config', 'configMap', false],
      ['creds', 'secret', false],
      ['kube-api-access-x7k2p', 'projected', false],
      ['podinfo', 'downwardAPI', false],
    ]);
    expect(result.strategy).toBe('make-before-break');
    expect(result.warnings).toEqual([]);
  });

  it('warns that each emptyDir loses its content', () => {
    const result = check([
      { name: 'scratch', emptyDir: {} },
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
    ]);

    expect(result.strategy).toBe('make-before-break');
    expect(result.warnings).toEqual([
      'emptyDir volume scratch starts empty on the target: its content is lost',
      'emptyDir volume shm starts empty on the target: its content is lost',
    ]);
  });

  it('warns that a generic ephemeral volume is provisioned anew', () => {
    const ephemeral = { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } };
    const result = check([{ name: 'cache', ephemeral }]);

    expect(result.volumes[0]).toMatchObject({ kind: 'ephemeral', single_node: false });
    expect(result.warnings).toEqual([expect.stringMatching(/ephemeral volume cache .* lost/)]);
  });

  it('mounts an inline NFS share again without a warning', () => {
    const result = check([
      { name: 'datasets', nfs: { server: 'nfs.internal', path: '/datasets' } },
    ]);
    expect(result.volumes[0]?.reason).toMatch(/network file system/);
    expect(result.warnings).toEqual([]);
  });

  it('warns about inline volumes it cannot check', () => {
    const result = check([{ name: 'secrets-store', csi: { driver: 'secrets-store.csi.k8s.io' } }]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^csi volume secrets-store was not checked before the move/),
    ]);
  });
});

describe('volumes that stay behind', () => {
  it('refuses a hostPath volume, naming it and its path', () => {
    const attempt = () => check([{ name: 'host-logs', hostPath: { path: '/var/log/train' } }]);

    expect(attempt).toThrow(VolumeCannotFollowError);
    expect(attempt).toThrow(
      'volume host-logs of pod default/tf-train-0 cannot follow it to target_node worker-2: it is the hostPath /var/log/train',
    );
  });

  it('refuses a claim bound to a local volume', () => {
    const local = persistentVolume('local-pv-1', ['ReadWriteOnce'], {
      local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1'] },
              ],
            },
          ],
        },
      },
    });
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteOnce'], 'local-pv-1')],
        [local],
      );

    expect(attempt).toThrow(VolumeCannotFollowError);
    expect(attempt).toThrow(/local-pv-1 is a local volume \(\/mnt\/disks\/ssd1\)/);
  });

  it('refuses a local volume even when its affinity would admit the target', () => {
    const local = persistentVolume('local-pv-2', ['ReadWriteOnce'], {
      local: { path: '/mnt/disks/ssd1' },
      nodeAffinity: zonalAffinity('eu-west-1a'),
    });
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteOnce'], 'local-pv-2')],
        [local],
      );

    expect(attempt).toThrow(/local volume/);
  });

  it('refuses a claim bound to a hostPath persistent volume', () => {
    const hostPath = persistentVolume('pv-host', ['ReadWriteOnce'], {
      hostPath: { path: '/srv/data' },
    });
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteOnce'], 'pv-host')],
        [hostPath],
      );

    expect(attempt).toThrow(/pv-host is the hostPath \/srv\/data/);
  });

  it('refuses a zonal volume whose node affinity does not match the target', () => {
    const zonal = persistentVolume('pvc-9f1c', ['ReadWriteOnce'], {
      csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0abc' },
      nodeAffinity: zonalAffinity('eu-west-1c'),
    });
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteOnce'], 'pvc-9f1c')],
        [zonal],
      );

    expect(attempt).toThrow(
      'its volume pvc-9f1c is local or zonal: its node affinity (topology.kubernetes.io/zone In [eu-west-1c]) does not match worker-2',
    );
  });

  it('refuses a claim that does not exist, or only in another namespace', () => {
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteMany'], undefined, 'other')],
      );
    expect(attempt).toThrow(/its claim data-claim does not exist/);
  });

  it('refuses a claim that is being deleted', () => {
    const deleting = claim('data-claim', ['ReadWriteMany'], 'pv-1');
    if (deleting.metadata) deleting.metadata.deletionTimestamp = new Date();
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [deleting],
        [persistentVolume('pv-1', ['ReadWriteMany'])],
      );

    expect(attempt).toThrow(/its claim data-claim is being deleted/);
  });

  it('refuses a claim whose bound volume is missing', () => {
    const attempt = () =>
      check(
        [claimVolume('data', 'data-claim')],
        [claim('data-claim', ['ReadWriteOnce'], 'pv-gone')],
      );
    expect(attempt).toThrow(/the volume pv-gone its claim is bound to does not exist/);
  });

  it('is a permanent 422 with a stable code', () => {
    try {
      check([{ name: 'host-logs', hostPath: { path: '/var/log' } }]);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'volume-cannot-follow', status: 422, permanent: true });
    }
  });
});

describe('volume strategy', () => {
  it('makes before breaking with ReadWriteMany and ReadOnlyMany claims', () => {
    const result = check(
      [claimVolume('datasets', 'datasets'), claimVolume('models', 'models')],
      [
        claim('datasets', ['ReadOnlyMany'], 'pv-datasets'),
        claim('models', ['ReadWriteMany'], 'pv-models'),
      ],
      [
        persistentVolume('pv-datasets', ['ReadOnlyMany'], { nfs: { server: 'nfs', path: '/d' } }),
        persistentVolume('pv-models', ['ReadWriteMany'], { nfs: { server: 'nfs', path: '/m' } }),
      ],
    );

    expect(result.strategy).toBe('make-before-break');
    expect(result.strategy_reason).toMatch(/every claim can be mounted on several nodes/);
    expect(result.volumes[1]).toEqual({
      name: 'models',
      kind: 'persistentVolumeClaim',
      claim: 'models',
      persistent_volume: 'pv-models',
      access_modes: ['ReadWriteMany'],
      single_node: false,
      reason:
        'claim models (ReadWriteMany, bound to pv-models): it can be mounted on both nodes at once',
    });
    expect(result.warnings).toEqual([]);
  });

  it('breaks before making with a ReadWriteOnce claim, and says the workload is down meanwhile', () => {
    const zonal = persistentVolume('pvc-9f1c', ['ReadWriteOnce'], {
      nodeAffinity: zonalAffinity('eu-west-1a'),
    });
    const result = check(
      [
        claimVolume('checkpoint', 'tf-train-checkpoint'),
        { name: 'config', configMap: { name: 'c' } },
      ],
      [claim('tf-train-checkpoint', ['ReadWriteOnce'], 'pvc-9f1c')],
      [zonal],
    );

    expect(result.strategy).toBe('break-before-make');
    expect(result.strategy_reason).toMatch(
      /one node at a time \(tf-train-checkpoint\): the original must stop/,
    );
    expect(result.volumes[0]).toMatchObject({ single_node: true, persistent_volume: 'pvc-9f1c' });
    expect(result.volumes[0]?.reason).toMatch(/only one node can mount it/);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^break-before-make: the workload is down/),
    ]);
  });

  it('breaks before making when one claim of several is ReadWriteOncePod', () => {
    const result = check(
      [claimVolume('models', 'models'), claimVolume('lock', 'lock')],
      [
        claim('models', ['ReadWriteMany'], 'pv-models'),
        claim('lock', ['ReadWriteOncePod'], 'pv-lock'),
      ],
      [
        persistentVolume('pv-models', ['ReadWriteMany']),
        persistentVolume('pv-lock', ['ReadWriteOncePod']),
      ],
    );

    expect(result.strategy).toBe('break-before-make');
    expect(result.volumes.map((v) => v.single_node)).toEqual([false, true]);
  });

  it('goes by the bound volume: a ReadWriteOnce claim on a ReadWriteMany volume is shared', () => {
    const bound = claim('shared', ['ReadWriteOnce'], 'pv-nfs');
    bound.status = { phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadWriteMany'] };
    const result = check(
      [claimVolume('shared', 'shared')],
      [bound],
      [persistentVolume('pv-nfs', ['ReadWriteOnce', 'ReadWriteMany'])],
    );

    expect(result.strategy).toBe('make-before-break');
  });

  it('judges an unbound claim by the modes it asks for, and warns', () => {
    const result = check(
      [claimVolume('scratch', 'scratch')],
      [claim('scratch', ['ReadWriteOnce'])],
    );

    expect(result.strategy).toBe('break-before-make');
    expect(result.volumes[0]?.persistent_volume).toBeNull();
    expect(result.warnings).toContain(
      'claim scratch is not bound yet; the scheduler binds it for the new pod',
    );
  });

  it('accepts a zonal volume whose node affinity matches the target', () => {
    const zonal = persistentVolume('pvc-9f1c', ['ReadWriteOnce'], {
      nodeAffinity: zonalAffinity('eu-west-1a'),
    });
    const result = check(
      [claimVolume('data', 'data')],
      [claim('data', ['ReadWriteOnce'], 'pvc-9f1c')],
      [zonal],
    );
    expect(result.volumes[0]?.persistent_volume).toBe('pvc-9f1c');
  });
});
