export type { ApiserverControl, LocalCluster, LocalClusterOptions } from './cluster.ts';
export { startLocalCluster } from './cluster.ts';
