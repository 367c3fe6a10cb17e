/**
 * The node program's parts, one room each (README, "Layout"): `node` builds and runs a node from
 * the others: `api`, `requests`, `replication`, `membership`, `subscriptions`, `clocks`, `access`.
 */
export { DEFAULT_NODE_OPTIONS, type NodeOptions, QuorumNode, type RestoredState, seedRestoredDirectory } from './node/index.ts';
