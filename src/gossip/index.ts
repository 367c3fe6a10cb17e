export { Gossip } from './gossip.ts';
export { isGossipMessage } from './message-shape.ts';
export {
  DEFAULT_GOSSIP_LIMITS,
  failureDetectionTicksMax,
  gossipConfig,
  validateGossipConfig,
  type GossipConfig,
  type GossipLimits,
} from './gossip-config.ts';
export type {
  AckMessage,
  GossipCounters,
  GossipMessage,
  GossipMessageType,
  Member,
  MembershipEvent,
  MembershipEventType,
  MemberState,
  MemberUpdate,
  PingMessage,
  PingReqMessage,
  SyncMessage,
} from './types.ts';
