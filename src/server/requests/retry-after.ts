/**
 * How long a refused caller is told to wait before it retries (`retryAfterMs`, and HTTP's
 * `Retry-After` rounded up to seconds), by why it was refused. The SDK waits at least this long
 * before its next attempt, on this node or another.
 */
export const RETRY_AFTER_MS = {
  /** Another node can take the request at once: this one, or this connection, is going away. */
  goneHere: 100,
  /** A bounded queue on this node is full: it drains within a replication round or two. */
  busy: 100,
  /** Leadership moved while the request was under way, or the link to the leader dropped: a new leader is usually known within an election timeout. */
  leaderChanged: 200,
  /** No leader is known, or this node is cut off: an election takes about this long. */
  noLeader: 500,
  /** This node's budget for request bodies in flight is spent: bodies under way finish within about this. */
  bodyBudget: 500,
  /** Every member supports the cluster version a command needs, and the leader raises it within an autopilot round. */
  versionRaise: 500,
  /** This node will not serve for a while (its disk refuses writes, it hosts its limit of subscriptions): another node should be tried. */
  useAnotherNode: 1000,
} as const;
