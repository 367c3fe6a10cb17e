export { Gossip } from './gossip.ts';
export {
  DEFAULT_GOSSIP_LIMITS,
  failureDetectionTicksMax,
  type GossipConfig,
  type GossipLimits,
  gossipConfig,
  validateGossipConfig,
} from './gossip-config.ts';
export { isGossipMessage } from './message-shape.ts';
export type {
  AckMessage,
  GossipCounters,
  GossipMessage,
  GossipMessageType,
  Member,
  MemberState,
  MembershipEvent,
  MembershipEventType,
  MemberUpdate,
  PingMessage,
  PingReqMessage,
  SyncMessage,
} from './types.ts';
