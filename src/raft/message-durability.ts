import type { Message } from './types.ts';

/**
 * Messages that promise nothing about the sender's disk may leave before its write completes: a
 * leader's appends, heartbeats and snapshots (Raft thesis §10.2.1, the leader writing its log in
 * parallel with replication). Safe because the core counts the leader toward a commit only for
 * entries on its own disk. Everything else (votes, acknowledgements, a candidate's requests that
 * carry its new term) waits for the write, as the ready contract says.
 */
export function isSendableBeforePersist(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
}
