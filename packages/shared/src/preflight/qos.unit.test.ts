import { describe, expect, it } from 'vitest';

import { qosClass } from './qos.ts';
import { container } from './test-fixtures.ts';

const exact = { cpu: '1', memory: '2Gi' };

describe('qosClass', () => {
  it('is Guaranteed when every container limits CPU and memory at its request', () => {
    const spec = {
      containers: [container('trainer', exact, exact), container('monitor', exact, exact)],
    };
    expect(qosClass(spec)).toBe('Guaranteed');
  });

  it('takes a request left out as the limit', () => {
    expect(qosClass({ containers: [container('trainer', undefined, exact)] })).toBe('Guaranteed');
  });

  it('compares quantities by value, not by spelling', () => {
    const requests = { cpu: '500m', memory: '1Gi' };
    const limits = { cpu: '0.5', memory: '1073741824' };
    expect(qosClass({ containers: [container('trainer', requests, limits)] })).toBe('Guaranteed');
  });

  it('is Burstable when a request is below its limit', () => {
    const requests = { cpu: '500m', memory: '2Gi' };
    expect(qosClass({ containers: [container('trainer', requests, exact)] })).toBe('Burstable');
  });

  it('is Burstable when only the CPU is limited', () => {
    const cpuOnly = { cpu: '1' };
    expect(qosClass({ containers: [container('trainer', cpuOnly, cpuOnly)] })).toBe('Burstable');
  });

  it('is Burstable when one container sets nothing beside a guaranteed one', () => {
    const spec = { containers: [container('trainer', exact, exact), container('sidecar')] };
    expect(qosClass(spec)).toBe('Burstable');
  });

  it('counts init containers: an unlimited one makes the pod Burstable', () => {
    const spec = {
      initContainers: [container('fetch-weights', { cpu: '100m' })],
      containers: [container('trainer', exact, exact)],
    };
    expect(qosClass(spec)).toBe('Burstable');
  });

  it('is Burstable, not BestEffort, when only an init container requests something', () => {
    const spec = {
      initContainers: [container('fetch-weights', { memory: '64Mi' })],
      containers: [container('trainer')],
    };
    expect(qosClass(spec)).toBe('Burstable');
  });

  it('is Guaranteed with a guaranteed native sidecar', () => {
    const spec = {
      initContainers: [container('proxy', exact, exact, 'Always')],
      containers: [container('trainer', exact, exact)],
    };
    expect(qosClass(spec)).toBe('Guaranteed');
  });

  it('is BestEffort when no container sets CPU or memory', () => {
    const spec = { containers: [container('trainer'), container('monitor')] };
    expect(qosClass(spec)).toBe('BestEffort');
  });

  it('ignores resources other than CPU and memory', () => {
    const gpu = { 'nvidia.com/gpu': '1', 'ephemeral-storage': '1Gi' };
    expect(qosClass({ containers: [container('trainer', gpu, gpu)] })).toBe('BestEffort');
  });

  it('treats zero quantities as not set', () => {
    const zero = { cpu: '0', memory: '0' };
    expect(qosClass({ containers: [container('trainer', zero, zero)] })).toBe('BestEffort');
  });

  it('does not default an explicit zero request to the limit', () => {
    const requests = { cpu: '0', memory: '2Gi' };
    expect(qosClass({ containers: [container('trainer', requests, exact)] })).toBe('Burstable');
  });
});
