import type { Logger } from 'pino';

/**
 * Warnings caused by the network (refused links, refused requests) at a bounded rate: a stranger
 * who retries in a loop must not be able to fill the disk with our logs. Within each window the
 * first `linesPerWindow` lines are written as they come; the rest are counted and reported once
 * the next line gets through.
 */
export class RateLimitedLog {
  private windowStartedMs = -Infinity;
  private linesInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly linesPerWindow = 10,
    private readonly windowMs = 10_000,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  warn(message: string, fields: Record<string, unknown> = {}): void {
    const now = this.nowMs();
    if (now - this.windowStartedMs >= this.windowMs) {
      this.windowStartedMs = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= this.linesPerWindow) {
      this.suppressed++;
      return;
    }
    this.linesInWindow++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.log.warn(suppressed === 0 ? fields : { ...fields, suppressedBefore: suppressed }, message);
  }
}
