import type { BackupHeader } from '../../shared/backup-format.ts';
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

/** A backup being written out: its header and the encoded state in parts, let go as written. */
export interface BackupStream {
  readonly header: BackupHeader;
  readonly parts: Uint8Array[];
}

/**
 * Backups for `GET /admin/backup`: the node passes a read barrier, takes the state at the index
 * it reached, and hands it to `write` while it holds it (one backup at a time).
 */
export interface BackupSource {
  backup(write: (backup: BackupStream) => Promise<void>): Promise<void>;
}
