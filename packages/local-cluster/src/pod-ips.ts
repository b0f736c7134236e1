import type { SimulatedNode } from './simulated-nodes.ts';

/**
 * Hands out pod IPs from the node's /24 like a CNI plugin's host-local IPAM: one address
 * per pod, released when the pod object is gone.
 */
export interface PodIpAllocator {
  /** The pod's address; `preferred` (from an existing status) is kept when still free. */
  assign(podUid: string, preferred?: string): string;
  release(podUid: string): void;
}

const FIRST_HOST = 2;
const LAST_HOST = 254;

export function podIpAllocator(node: SimulatedNode): PodIpAllocator {
  const prefix = `10.244.${node.subnet}.`;
  const byPod = new Map<string, string>();
  const inUse = new Set<string>();
  let cursor = FIRST_HOST;

  const nextFree = (): string => {
    for (let step = 0; step <= LAST_HOST - FIRST_HOST; step += 1) {
      const candidate = `${prefix}${cursor}`;
      cursor = cursor >= LAST_HOST ? FIRST_HOST : cursor + 1;
      if (!inUse.has(candidate)) {
        return candidate;
      }
    }
    throw new Error(`node ${node.name} has no free pod IPs left in ${node.podCIDR}`);
  };

  return {
    assign: (podUid, preferred) => {
      const existing = byPod.get(podUid);
      if (existing !== undefined) {
        return existing;
      }

      const usable = preferred?.startsWith(prefix) === true && !inUse.has(preferred);
      const address = usable ? preferred : nextFree();
      byPod.set(podUid, address);
      inUse.add(address);
      return address;
    },
    release: (podUid) => {
      const address = byPod.get(podUid);
      if (address !== undefined) {
        inUse.delete(address);
        byPod.delete(podUid);
      }
    },
  };
}
