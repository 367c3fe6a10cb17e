export { PeerTransport, type PeerTransportOptions } from './peer-transport.ts';
export { FaultFilter } from './fault-filter.ts';
export { PEER_PROTOCOL_VERSION, type PeerFrame, type PeerIdentity } from './peer-frames.ts';
