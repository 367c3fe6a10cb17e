import type { PeerIdentity } from '../../transport/index.ts';
import type { RequestPath } from '../requests/index.ts';

/** Where the APIs hand every client request (see `RequestPath`). */
export type ClientRequests = Pick<RequestPath, 'dispatch' | 'write' | 'unserviceable'>;

/** The request counters the APIs feed, and the exposition `GET /metrics` serves (`NodeMetrics`). */
export interface ApiMetrics {
  observe(op: string, code: string, seconds: number): void;
  readonly registry: { metrics(): Promise<string>; readonly contentType: string };
}

/** What `GET /health` reports: whether this node can serve now, and why not. */
export interface NodeHealth {
  health(): { ok: boolean; reason: string };
}

/** The peers this node has links to: fault injection names them by id or by address. */
export interface PeerDirectory {
  peers(): readonly PeerIdentity[];
}
