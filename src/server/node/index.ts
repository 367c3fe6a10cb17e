/** A quorumq node: its options and its life (`QuorumNode.start`, `stop`), and a data directory seeded from a backup. */
export { DEFAULT_NODE_OPTIONS, type NodeOptions } from './node-options.ts';
export { QuorumNode } from './quorum-node.ts';
export { type RestoredState, seedRestoredDirectory } from './restored-directory.ts';
