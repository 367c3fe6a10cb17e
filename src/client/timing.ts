/** A wait that does not keep the process alive by itself: the client's sockets do that. */
export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs).unref());
}

/** Capped exponential backoff for the SDK's background retries (resubscribing). */
export function backoffMs(failures: number, delayMsMax: number): number {
  return Math.min(delayMsMax, 100 * 2 ** Math.min(Math.max(failures, 0), 6));
}

/** `promise`'s value, or undefined if it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs))));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SilenceWatchTiming {
  /** How often `tick` is called (the timer's period). */
  readonly intervalMs: number;
  /** The longest silence, counted in time this process could listen, before the peer is given up. */
  readonly silentForMsMax: number;
  /** Lateness of a tick that is ordinary timer jitter, not a stall: it counts as listening time. */
  readonly lagToleranceMs: number;
}

/**
 * How long a peer has been silent, counting only time in which this process could have heard it.
 *
 * A timer is how a process notices silence, and a timer only runs when the event loop is free. A
 * job that holds the loop for 1.5 s (a synchronous resize, parse or compression) stops this
 * process from sending pings and from reading the answers already waiting in its socket; when the
 * loop frees, timers run before sockets are read, so a plain `now - lastHeard` sees 1.5 s of
 * silence from a node that answered every ping. The stall shows itself as a tick that comes late:
 * lateness beyond `lagToleranceMs` is the process's own stall, and it does not count as the
 * peer's silence. Each tick still adds at least its ordinary interval, so a node that is really
 * gone is given up after `silentForMsMax` of listening even if the process stalls again and again.
 * Time is given by the caller (a monotonic clock), so that the rule is tested without waiting.
 */
export class SilenceWatch {
  private lastHeard: number;
  private lastTick: number;
  /** Of the time since `lastHeard`, how much this process spent stalled: not the peer's silence. */
  private stalledMs = 0;

  constructor(
    private readonly timing: SilenceWatchTiming,
    now: number,
  ) {
    this.lastHeard = now;
    this.lastTick = now;
  }

  /** Anything came from the peer (a reply, a push, a pong, a ping). */
  heard(now: number): void {
    this.lastHeard = now;
    this.stalledMs = 0;
  }

  /** The peer's silence so far, this process's own stalls left out. */
  silentForMs(now: number): number {
    return Math.max(0, now - this.lastHeard - this.stalledMs);
  }

  /** Called by the timer every `intervalMs`; true when the peer has been silent for too long. */
  tick(now: number): boolean {
    const stalledMs = now - this.lastTick - this.timing.intervalMs - this.timing.lagToleranceMs;
    this.lastTick = now;
    // A stall ends before the next read of the socket, so what was heard after it (a poll phase that
    // ran before this timer) is not forgiven again: the credit never exceeds the time since then.
    if (stalledMs > 0) this.stalledMs = Math.min(this.stalledMs + stalledMs, now - this.lastHeard);
    return this.silentForMs(now) > this.timing.silentForMsMax;
  }
}
