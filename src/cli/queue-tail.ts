// `quorumq tail Q`: prints a queue's messages as they are enqueued, without consuming them, by
// peeking (a read: nothing is leased or counted) for ids past the last one printed. A message
// enqueued and acked between two looks is never seen: tail shows what waits or is being worked on.
import type { NodeApi } from './node-api.ts';

/** How often tail looks again. */
export const TAIL_INTERVAL_MS = 250;

/** The states a tail looks in: waiting (ready or delayed) and leased. */
const TAIL_STATES = ['waiting', 'inflight'] as const;

interface Peeked {
  readonly id: string;
  readonly seq: number;
  readonly state: string;
  readonly body?: unknown;
}

export interface TailOptions {
  /** Stop after printing this many; undefined: until `stopped()` says so. */
  readonly count: number | undefined;
  readonly stopped: () => boolean;
  readonly print: (message: Peeked) => void;
  readonly intervalMs?: number;
}

/** Follows `queue` until `count` messages were printed or it is stopped; returns how many it printed. */
export async function tailQueue(api: NodeApi, queue: string, options: TailOptions): Promise<number> {
  let after: string | undefined;
  let printed = 0;
  // Only what comes from now on: start past the newest message there is.
  for (const state of TAIL_STATES) after = newest(after, (await lastPage(api, queue, state)).at(-1)?.id);
  while (!options.stopped() && (options.count === undefined || printed < options.count)) {
    const fresh = new Map<string, Peeked>();
    for (const state of TAIL_STATES) for (const message of await pageAfter(api, queue, state, after)) fresh.set(message.id, message);
    const ordered = [...fresh.values()].sort((a, b) => idNumber(a.id) - idNumber(b.id));
    for (const message of ordered) {
      if (options.count !== undefined && printed >= options.count) break;
      options.print(message);
      printed++;
      after = message.id;
    }
    if (ordered.length === 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? TAIL_INTERVAL_MS));
  }
  return printed;
}

async function pageAfter(api: NodeApi, queue: string, state: string, after: string | undefined): Promise<Peeked[]> {
  const query = new URLSearchParams({ state, limit: '1000', ...(after === undefined ? {} : { after }) });
  const reply = await api.send('GET', `/queues/${encodeURIComponent(queue)}/messages?${query}`, 'idempotent');
  return ((reply.body as { messages?: Peeked[] } | undefined)?.messages ?? []).slice();
}

/** The last page of a state, by following `next`: where a tail starts. */
async function lastPage(api: NodeApi, queue: string, state: string): Promise<Peeked[]> {
  let page = await pageAfter(api, queue, state, undefined);
  while (page.length === 1000) {
    const next = await pageAfter(api, queue, state, page.at(-1)!.id);
    if (next.length === 0) break;
    page = next;
  }
  return page;
}

/** Message ids count up in base 36 (see the queue's `idNumber`). */
function idNumber(id: string): number {
  return Number.parseInt(id, 36);
}

function newest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return idNumber(a) >= idNumber(b) ? a : b;
}
