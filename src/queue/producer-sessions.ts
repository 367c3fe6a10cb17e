import type { ProducerStamp } from '../shared/index.ts';

/**
 * Idempotent enqueues for SDK producers, in the manner of Kafka's idempotent producer: each client
 * numbers its enqueue requests, says which numbers it no longer waits on (`settledBelow`), and the
 * machine keeps, per producer, only the answers to requests the client may still retry. Memory is
 * bounded by producers × requests in flight, not by throughput × a dedup window, which per-message
 * dedup ids on every enqueue would cost.
 */
export const PRODUCER_LIMITS = {
  idLengthMax: 64,
  /** Requests one producer may have answered and not yet settled. */
  unsettledMax: 10_000,
  producersMax: 100_000,
  /** A producer silent this long is forgotten (by the log's clock). */
  idleMs: 15 * 60 * 1000,
} as const;

interface Session<Result> {
  settledBelow: number;
  lastSeen: number;
  readonly answers: Map<number, Result>;
}

export type SessionSnapshot<Result> = readonly (readonly [
  id: string,
  settledBelow: number,
  lastSeen: number,
  answers: readonly (readonly [number, Result])[],
])[];

export type Lookup<Result> =
  | { readonly kind: 'new' }
  | { readonly kind: 'answered'; readonly result: Result }
  /** Settled by the client: a delayed copy, nobody waits for it, and it must not apply again. */
  | { readonly kind: 'stale' }
  | { readonly kind: 'full' };

export class ProducerSessions<Result> {
  private sessions = new Map<string, Session<Result>>();

  get size(): number {
    return this.sessions.size;
  }

  /** What to do with a stamped request; also records that the producer was seen at `now`. */
  lookup(stamp: ProducerStamp, now: number): Lookup<Result> {
    const session = this.sessions.get(stamp.id);
    if (session === undefined) return this.sessions.size >= PRODUCER_LIMITS.producersMax ? { kind: 'full' } : { kind: 'new' };
    this.settle(session, stamp.settledBelow);
    session.lastSeen = now;
    // Map order is insertion order: a seen producer moves to the end, so the oldest is first.
    this.sessions.delete(stamp.id);
    this.sessions.set(stamp.id, session);
    if (stamp.seq < session.settledBelow) return { kind: 'stale' };
    const answered = session.answers.get(stamp.seq);
    if (answered !== undefined) return { kind: 'answered', result: answered };
    return session.answers.size >= PRODUCER_LIMITS.unsettledMax ? { kind: 'full' } : { kind: 'new' };
  }

  /** Keeps the answer to a request applied for the first time, until the producer settles it. */
  remember(stamp: ProducerStamp, now: number, result: Result): void {
    let session = this.sessions.get(stamp.id);
    if (session === undefined) {
      session = { settledBelow: 0, lastSeen: now, answers: new Map() };
      this.sessions.set(stamp.id, session);
    }
    this.settle(session, stamp.settledBelow);
    if (stamp.seq >= session.settledBelow) session.answers.set(stamp.seq, result);
  }

  /** Forgets producers idle past the limit; the oldest are at the front of the map. */
  expire(now: number): void {
    for (const [id, session] of this.sessions) {
      if (now - session.lastSeen < PRODUCER_LIMITS.idleMs) return;
      this.sessions.delete(id);
    }
  }

  /** The earliest time at which `expire` would forget someone. */
  nextDeadline(): number | undefined {
    for (const session of this.sessions.values()) return session.lastSeen + PRODUCER_LIMITS.idleMs;
    return undefined;
  }

  toSnapshot(): SessionSnapshot<Result> {
    return [...this.sessions].map(([id, session]) => [id, session.settledBelow, session.lastSeen, [...session.answers]] as const);
  }

  static fromSnapshot<Result>(snapshot: SessionSnapshot<Result> | undefined): ProducerSessions<Result> {
    const sessions = new ProducerSessions<Result>();
    for (const [id, settledBelow, lastSeen, answers] of snapshot ?? []) {
      sessions.sessions.set(id, { settledBelow, lastSeen, answers: new Map(answers) });
    }
    return sessions;
  }

  private settle(session: Session<Result>, settledBelow: number): void {
    if (settledBelow <= session.settledBelow) return;
    session.settledBelow = settledBelow;
    // Answers arrive nearly in number order, so the settled ones sit at the front; one that came
    // late, behind a higher number, goes once the numbers before it are settled in turn.
    for (const seq of session.answers.keys()) {
      if (seq >= settledBelow) break;
      session.answers.delete(seq);
    }
  }
}
