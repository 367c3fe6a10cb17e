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
 * way a full, failing or read-only disk fails it, until cleared. The node cannot tell the difference:
 * it must stop acknowledging, say so, and come back by itself once writes succeed again.
 */
export class DiskFaults {
  private failing: DiskFaultCode | undefined;
  injected = 0;

  get current(): DiskFaultCode | undefined {
    return this.failing;
  }

  fail(code: DiskFaultCode): void {
    if (this.failing === undefined) this.injected++;
    this.failing = code;
  }

  clear(): void {
    this.failing = undefined;
  }

  /** Throws the error a real disk would give for `operation`, while a fault is set. */
  check(operation: string): void {
    if (this.failing === undefined) return;
    const error = new Error(`${this.failing}: ${DESCRIPTIONS[this.failing]}, ${operation} (injected)`) as NodeJS.ErrnoException;
    error.code = this.failing;
    throw error;
  }
}

export function isDiskFaultCode(value: unknown): value is DiskFaultCode {
  return typeof value === 'string' && (DISK_FAULT_CODES as readonly string[]).includes(value);
}
