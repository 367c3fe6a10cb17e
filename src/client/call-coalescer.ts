import { QuorumqError } from './client-errors.ts';

/** Calls merged into one request at most; a merged request the node finds too large is split up. */
const CALLS_PER_REQUEST_MAX = 64;

interface OpenGroup<Part, Outcome> {
  readonly parts: Part[];
  readonly resolves: ((outcome: Outcome) => void)[];
  readonly rejects: ((error: unknown) => void)[];
}

/**
 * Merges calls of one kind made in the same event-loop turn (per key, e.g. per queue) into one
 * request, as a producer with many messages in flight or a worker finishing many jobs makes them:
 * one frame, one validation, one forward and one log command instead of dozens. `send` takes the
 * parts in order and returns one outcome per part; a failure fails every part of that request.
 */
export class CallCoalescer<Part, Outcome> {
  private readonly open = new Map<string, OpenGroup<Part, Outcome>>();

  constructor(private readonly send: (key: string, parts: readonly Part[]) => Promise<readonly Outcome[]>) {}

  submit(key: string, part: Part): Promise<Outcome> {
    let group = this.open.get(key);
    if (group === undefined) {
      const created: OpenGroup<Part, Outcome> = { parts: [], resolves: [], rejects: [] };
      group = created;
      this.open.set(key, created);
      setImmediate(() => this.flush(key, created));
    }
    const current = group;
    const outcome = new Promise<Outcome>((resolve, reject) => {
      current.parts.push(part);
      current.resolves.push(resolve);
      current.rejects.push(reject);
    });
    if (current.parts.length >= CALLS_PER_REQUEST_MAX) this.flush(key, current);
    return outcome;
  }

  private flush(key: string, group: OpenGroup<Part, Outcome>): void {
    if (this.open.get(key) !== group) return;
    this.open.delete(key);
    void this.deliver(key, group);
  }

  private async deliver(key: string, group: OpenGroup<Part, Outcome>): Promise<void> {
    try {
      const outcomes = await this.send(key, group.parts);
      outcomes.forEach((outcome, index) => group.resolves[index]!(outcome));
    } catch (error) {
      if (error instanceof QuorumqError && error.code === 'TOO_LARGE' && group.parts.length > 1) {
        // Together too large for one frame: each call on its own gets its own answer.
        group.parts.forEach((part, index) => void this.send(key, [part]).then(([outcome]) => group.resolves[index]!(outcome!), group.rejects[index]!));
        return;
      }
      for (const reject of group.rejects) reject(error);
    }
  }
}
