import { assert } from '../shared/index.ts';
import type { SessionSnapshot } from './producer-sessions.ts';
import type { QueueResult } from './queue-commands.ts';
import { defaultQueueConfig } from './queue-config.ts';
import type { StoredMessage } from './queue-message.ts';
import type { QueueSnapshot } from './queue-state.ts';

/**
 * 2: messages carry `expiresAt`, `deliveredAt` and `history`; queues carry `retained` records and
 * `retentionMs`. Version 1 snapshots are still read, so a node restarts across the upgrade.
 */
export const SNAPSHOT_VERSION = 2;
/**
 * 3: version 2 with a cluster version past 1 (`clusterVersion`). Written only once the cluster runs
 * version 2 or later, so that a release from before the gate, which knows snapshot versions 1 and 2
 * only, refuses such a state at start instead of running it without knowing its commands.
 */
export const RAISED_SNAPSHOT_VERSION = 3;

export interface MachineSnapshot {
  readonly version: number;
  readonly now: number;
  readonly nextMessageNumber: number;
  readonly queues: readonly QueueSnapshot[];
  /** Absent in snapshots from before idempotent producers: no session to resume. */
  readonly producers?: SessionSnapshot<QueueResult>;
  /** Absent until the cluster version is raised past 1 (see `cluster-version.ts`). */
  readonly clusterVersion?: number;
}

/** The snapshot in the current version's shape. */
export function upgradeSnapshot(snapshot: MachineSnapshot): MachineSnapshot {
  const known = snapshot.version === 1 || snapshot.version === SNAPSHOT_VERSION || snapshot.version === RAISED_SNAPSHOT_VERSION;
  assert(known, `unknown queue snapshot version ${String(snapshot.version)}`);
  if (snapshot.version !== 1) return snapshot;
  return { ...snapshot, version: SNAPSHOT_VERSION, queues: snapshot.queues.map(upgradeQueue) };
}

/**
 * A version 1 queue: nothing expired, nothing had a history, nothing was remembered. A leased
 * message's delivery time was not kept; its enqueue time is the earliest it can have been.
 */
function upgradeQueue(queue: QueueSnapshot): QueueSnapshot {
  const messages = queue.messages.map(
    (message): StoredMessage => ({
      ...message,
      expiresAt: 0,
      deliveredAt: message.state === 'inflight' ? message.enqueuedAt : 0,
      history: [],
      ...(message.deadLetter === undefined ? {} : { deadLetter: { ...message.deadLetter, history: [] } }),
    }),
  );
  return { ...queue, config: { ...defaultQueueConfig(queue.name), ...queue.config }, messages, retained: [] };
}
