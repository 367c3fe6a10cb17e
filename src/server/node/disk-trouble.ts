import type { Logger } from 'pino';
import { RequestError } from '../../shared/index.ts';
import { isDiskRefusal, StorageWriteError } from '../../storage/index.ts';
import { RETRY_AFTER_MS } from '../requests/index.ts';

export interface DiskTroubleOptions {
  /** Waits between attempts to take writes again: doubles from the first to the last. */
  readonly retryFirstMs: number;
  readonly retryMaxMs: number;
  /** Checks the disk takes writes again; throws why not. */
  readonly probe: () => Promise<void>;
  /** Reopens storage and rejoins from what is on disk; throws if it cannot yet. */
  readonly reopen: () => Promise<void>;
  readonly log: Logger;
}

export interface DiskTroubleView {
  readonly since: number;
  readonly reason: string;
  readonly message: string;
  readonly attempts: number;
  /** The store itself is damaged (LevelDB's corruption), not the disk refusing writes. */
  readonly corruption: boolean;
}

/**
 * A node whose disk refuses writes (full, failing, read-only) must not acknowledge anything, must
 * not crash (a restart would fail the same way, again and again), and must come back by itself.
 * This keeps the state of that episode and retries, with backoff, until the disk takes a synced
 * write again and storage reopens; the node then rebuilds from disk as if it had restarted.
 */
export class DiskTrouble {
  /** `first`: the failure that began it (later ones may only be the probe failing). */
  private episode: { since: number; first: StorageWriteError; error: StorageWriteError; attempts: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  failures = 0;
  recoveries = 0;

  constructor(private readonly options: DiskTroubleOptions) {}

  get active(): boolean {
    return this.episode !== undefined;
  }

  view(): DiskTroubleView | undefined {
    const episode = this.episode;
    if (episode === undefined) return undefined;
    return {
      since: episode.since,
      reason: episode.error.reason,
      message: episode.error.message,
      attempts: episode.attempts,
      corruption: episode.first.corruption,
    };
  }

  /** What every request hears while the disk refuses writes; undefined when it takes them. */
  refusal(): RequestError | undefined {
    const episode = this.episode;
    if (episode === undefined) return undefined;
    return new RequestError('UNAVAILABLE', `this node cannot write to its disk (${episode.error.reason}); use another node`, RETRY_AFTER_MS.useAnotherNode);
  }

  /** Starts an episode (the caller has already stopped the node taking part). */
  begin(error: StorageWriteError): void {
    if (this.episode !== undefined || this.stopped) return;
    this.failures++;
    this.episode = { since: Date.now(), first: error, error, attempts: 0 };
    this.options.log.error({ reason: error.reason, err: error }, 'the disk refused a write: not acknowledging anything until it takes writes again');
    this.schedule(this.options.retryFirstMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(delayMs), delayMs);
  }

  private async attempt(lastDelayMs: number): Promise<void> {
    const episode = this.episode;
    if (episode === undefined || this.stopped) return;
    episode.attempts++;
    try {
      await this.options.probe();
      await this.options.reopen();
    } catch (caught) {
      const error = caught instanceof StorageWriteError ? caught : new StorageWriteError('reopening storage', caught);
      episode.error = error;
      this.options.log.warn({ reason: error.reason, attempts: episode.attempts, err: error }, 'the disk still refuses writes');
      this.schedule(Math.min(lastDelayMs * 2, this.options.retryMaxMs));
      return;
    }
    this.episode = undefined;
    this.recoveries++;
    this.options.log.info({ downMs: Date.now() - episode.since, attempts: episode.attempts }, 'the disk takes writes again: rejoined from what is on it');
  }
}

/** Waits between attempts to open storage on a disk that refuses writes at start. */
const OPEN_RETRY_MS = [500, 1000, 2000, 5000] as const;

/**
 * Opens storage at start, waiting for a disk that refuses writes (full, read-only...) instead of
 * exiting: a supervisor restarting a node that exits would only fail the same way in a loop.
 * Anything else (damage it cannot repair, a bug) still fails the start.
 */
export async function openWhenWritable<T>(open: () => Promise<T>, log: Logger): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (!isDiskRefusal(error)) throw error;
      const waitMs = OPEN_RETRY_MS[Math.min(attempt, OPEN_RETRY_MS.length - 1)]!;
      log.error({ err: error, attempt: attempt + 1, retryInMs: waitMs }, 'cannot open storage: the disk refuses writes; waiting for it');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
