/**
 * The client-facing edges on the node's one port: the HTTP/JSON routes (docs/http-api.md), the
 * WebSocket client protocol (docs/protocol.md), the dashboard's files and the fault-injection
 * routes. Every request they take goes to the `RequestPath`; nothing here runs one itself.
 */
export type { ApiMetrics, BackupSource, BackupStream, ClientRequests, NodeHealth, PeerDirectory } from './api-parts.ts';
export { ClientSockets, type ClientSocketsOptions } from './client-sockets.ts';
export { type FaultControls } from './fault-admin.ts';
export { HttpApi, type HttpApiOptions, type WebSocketEndpoint } from './http-api.ts';
