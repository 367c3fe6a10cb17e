/** The ways a disk refuses a write that tests can ask for. */
export const DISK_FAULT_CODES = ['ENOSPC', 'EIO', 'EROFS'] as const;
export type DiskFaultCode = (typeof DISK_FAULT_CODES)[number];

const DESCRIPTIONS: Record<DiskFaultCode, string> = {
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
  EROFS: 'read-only file system',
};

/**
 * Tests only (nodes started with --enable-fault-injection): makes every write of this node fail the
 * way a full, failing or read-only disk fails it, or hang the way a stalled one does (a hung network
 * volume, a throttled cloud disk, a dying SSD), until cleared. The node cannot tell the difference:
 * it must stop acknowledging, say so, and come back by itself once writes succeed again.
 */
export class DiskFaults {
  private failing: DiskFaultCode | undefined;
  /** While set, writes wait on it; resolved (and dropped) when the stall is cleared. */
  private stall: { readonly released: Promise<void>; readonly release: () => void } | undefined;
  injected = 0;

  get current(): DiskFaultCode | undefined {
    return this.failing;
  }

  get stalled(): boolean {
    return this.stall !== undefined;
  }

  fail(code: DiskFaultCode): void {
    if (this.failing === undefined) this.injected++;
    this.failing = code;
  }

  /** Writes from now on hang until `clear()` or `resume()`; those already under way finish. */
  stallWrites(): void {
    if (this.stall !== undefined) return;
    this.injected++;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.stall = { released, release };
  }

  resume(): void {
    this.stall?.release();
    this.stall = undefined;
  }

  stopFailing(): void {
    this.failing = undefined;
  }

  clear(): void {
    this.stopFailing();
    this.resume();
  }

  /** Waits while writes are stalled, then throws the error a real disk would give for `operation`, while a fault is set. */
  async check(operation: string): Promise<void> {
    if (this.stall !== undefined) await this.stall.released;
    if (this.failing === undefined) return;
    const error = new Error(`${this.failing}: ${DESCRIPTIONS[this.failing]}, ${operation} (injected)`) as NodeJS.ErrnoException;
    error.code = this.failing;
    throw error;
  }
}

export function isDiskFaultCode(value: unknown): value is DiskFaultCode {
  return typeof value === 'string' && (DISK_FAULT_CODES as readonly string[]).includes(value);
}
