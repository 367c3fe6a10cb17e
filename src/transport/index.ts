export { PeerTransport, type PeerTransportOptions } from './peer-transport.ts';
export { flushCoalescedWrites } from './write-coalescing.ts';
export { FaultFilter } from './fault-filter.ts';
export { PEER_PROTOCOL_VERSION, type PeerFrame, type PeerIdentity } from './peer-frames.ts';
export { SnapshotSender } from './snapshot-sender.ts';
export { SnapshotReceiver } from './snapshot-receiver.ts';
export { DEFAULT_SNAPSHOT_STREAM_LIMITS, type SnapshotStreamLimits } from './snapshot-chunks.ts';
