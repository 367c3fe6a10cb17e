/** A quorumq node: its options and its life (`QuorumNode.start`, `stop`). */
export { DEFAULT_NODE_OPTIONS, type NodeOptions } from './node-options.ts';
export { QuorumNode } from './quorum-node.ts';
