/**
 * The small checks every edge validator is built from (Raft and gossip messages, peer frames):
 * values from the network are `unknown` until one of these says otherwise.
 */
export type Fields = Record<string, unknown>;

/** A plain map of fields: not null, not an array. */
export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An exact integer, 0 or more: terms, indexes, sequence numbers. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
