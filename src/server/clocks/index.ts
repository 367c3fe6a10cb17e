/** Clocks: this node's own (skewable for fault injection) and the cluster's, from its voters' clocks. */
export { ClusterClock } from './cluster-clock.ts';
export { type ClockSkew, checkSkew, NodeClock } from './node-clock.ts';
