import { RequestError } from '../../shared/index.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

interface PendingRead {
  readonly resolve: (index: number) => void;
  readonly reject: (error: RequestError) => void;
  readonly timer: NodeJS.Timeout;
  /** The applied index this read waits for, once the leader has answered. */
  index: number | undefined;
}

/**
 * Linearizable reads (Raft §6.4): a read is answered from local state once the node has applied
 * the commit index the leader confirmed at the time of the read.
 */
export class ReadBarrier {
  private nextContext = 1;
  private pending = new Map<string, PendingRead>();
  private readonly prefix = `r${Math.floor(Math.random() * 1e9).toString(36)}-`;

  /** `done` resolves with the index the read waited for (the leader's commit index at the read). */
  begin(timeoutMs: number): { context: string; done: Promise<number> } {
    const context = `${this.prefix}${this.nextContext++}`;
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(context);
        reject(new RequestError('TIMEOUT', 'the read could not be confirmed by a quorum in time', RETRY_AFTER_MS.leaderChanged));
      }, timeoutMs);
      timer.unref();
      this.pending.set(context, { resolve, reject, timer, index: undefined });
    });
    return { context, done };
  }

  onReadState(context: string, index: number, appliedIndex: number): void {
    const read = this.pending.get(context);
    if (read === undefined) return;
    read.index = index;
    if (appliedIndex >= index) this.finish(context, read);
  }

  onReadFailure(context: string): void {
    const read = this.pending.get(context);
    if (read === undefined) return;
    this.pending.delete(context);
    clearTimeout(read.timer);
    read.reject(new RequestError('NO_LEADER', 'leadership changed during the read; retry', RETRY_AFTER_MS.leaderChanged));
  }

  onApplied(appliedIndex: number): void {
    for (const [context, read] of this.pending) {
      if (read.index !== undefined && read.index <= appliedIndex) this.finish(context, read);
    }
  }

  failAll(): void {
    for (const [context] of this.pending) this.onReadFailure(context);
  }

  private finish(context: string, read: PendingRead): void {
    this.pending.delete(context);
    clearTimeout(read.timer);
    read.resolve(read.index ?? 0);
  }
}
