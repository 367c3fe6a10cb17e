import { performance } from 'node:perf_hooks';
import { ClusterError } from '../../shared/index.ts';

export const CLOCK_OFFSET_ENV = 'QUORUMQ_CLOCK_OFFSET_MS';
export const CLOCK_DRIFT_ENV = 'QUORUMQ_CLOCK_DRIFT_PPM';

/** How far a test may push a node's clock: a year each way, and a 10% rate error. */
const OFFSET_MS_MAX = 366 * 24 * 3600 * 1000;
const DRIFT_PPM_MAX = 100_000;

export interface ClockSkew {
  /** Added to the wall clock: a clock that was set wrong, or stepped. */
  readonly offsetMs: number;
  /** Parts per million the clock runs fast (or slow, below 0): an oscillator's error. */
  readonly driftPpm: number;
}

/**
 * This node's two clocks. The wall clock is what stamps entries (through the cluster's median, see
 * `PeerClocks`); the monotonic clock times local waits, which a stepped wall clock must not cut short
 * or stretch. Tests skew both (RELIABILITY #10): the offset moves the wall clock only, the drift
 * changes the rate of both, as a bad oscillator would.
 */
export class NodeClock {
  private skew: ClockSkew = { offsetMs: 0, driftPpm: 0 };
  /** Where the current drift started: drift accumulates from the moment it was set. */
  private driftFromMono = performance.now();
  private driftBaseMs = 0;

  wallMs(): number {
    return Date.now() + this.skew.offsetMs + this.driftMs();
  }

  monoMs(): number {
    return performance.now() + this.driftMs();
  }

  get current(): ClockSkew {
    return this.skew;
  }

  set(skew: ClockSkew): void {
    checkSkew(skew);
    this.driftBaseMs = this.driftMs();
    this.driftFromMono = performance.now();
    this.skew = skew;
  }

  /** Reads the skew a test asked for in the environment. */
  static fromEnvironment(environment: NodeJS.ProcessEnv = process.env): NodeClock {
    const clock = new NodeClock();
    const offsetMs = numberFrom(environment[CLOCK_OFFSET_ENV], CLOCK_OFFSET_ENV);
    const driftPpm = numberFrom(environment[CLOCK_DRIFT_ENV], CLOCK_DRIFT_ENV);
    if (offsetMs !== 0 || driftPpm !== 0) clock.set({ offsetMs, driftPpm });
    return clock;
  }

  private driftMs(): number {
    return this.driftBaseMs + ((performance.now() - this.driftFromMono) * this.skew.driftPpm) / 1e6;
  }
}

export function checkSkew(skew: ClockSkew): void {
  if (!Number.isFinite(skew.offsetMs) || Math.abs(skew.offsetMs) > OFFSET_MS_MAX) {
    throw new ClusterError('INVALID_CONFIG', `clock offset must be a number of milliseconds within ±${OFFSET_MS_MAX}`);
  }
  if (!Number.isFinite(skew.driftPpm) || Math.abs(skew.driftPpm) > DRIFT_PPM_MAX) {
    throw new ClusterError('INVALID_CONFIG', `clock drift must be within ±${DRIFT_PPM_MAX} ppm`);
  }
}

function numberFrom(text: string | undefined, name: string): number {
  if (text === undefined || text.trim() === '') return 0;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new ClusterError('INVALID_CONFIG', `${name} must be a number, not "${text}"`);
  return value;
}
