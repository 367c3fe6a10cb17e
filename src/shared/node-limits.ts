/**
 * What a node's identity may look like, one set of numbers for every layer that carries it: gossip
 * claims, Raft memberships, peer frames. A value one layer admits and another refuses would be
 * admitted into the cluster and then cut its links (a gossip claim with a 300-character id made the
 * autopilot propose a learner whose config entry every follower refused, stalling commits).
 */
export const NODE_LIMITS = {
  /**
   * Node ids: ours are 12 hex characters; room for ids chosen by other tools. Bounded in length and
   * in characters because an id is persisted in fixed room: the vote in the acknowledged mark's
   * 512-byte slot (a 256-character id of multi-byte characters, granted a vote by a forged request,
   * overflowed it and the node could no longer start).
   */
  idLengthMax: 64,
  /** `host:port`: a 253-character DNS name, a colon, five digits, and brackets for IPv6. */
  addressLengthMax: 270,
  /** Voters and learners together: a configuration larger than this is refused, not replicated. */
  membersMax: 64,
} as const;

/** What a node id may be made of: one byte per character wherever it is written. */
const NODE_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** A node id as every layer accepts it. */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= NODE_LIMITS.idLengthMax && NODE_ID_PATTERN.test(value);
}

/**
 * A node address as the cores carry it: 1 to `addressLengthMax` characters without spaces. What
 * it means (`host:port`) is the transport's business; it checks that fully before it dials.
 */
export function isNodeAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= NODE_LIMITS.addressLengthMax && !/\s/.test(value);
}
