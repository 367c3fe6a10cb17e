// The operator commands on queues and their messages: list, configure, enqueue, peek, promote,
// pause and resume, redrive, tail. Each turns its arguments into requests and the answer into text.
import { randomUUID } from 'node:crypto';
import { type Context, get, integerFlag, jsonObject, type Output, PRINTED_AS_IT_WENT, segment, staleQuery, stringFlag } from './command-context.ts';
import { tailQueue } from './queue-tail.ts';
import { cell, keyValues, shortJson, table } from './text-output.ts';
import { UsageError } from './usage-error.ts';

/** `queues configure` flags and the config field each sets (`backoff` takes two). */
export const CONFIG_FLAGS = {
  'visibility-ms': 'visibilityMs',
  'max-deliveries': 'maxDeliveries',
  'dedup-window-ms': 'dedupWindowMs',
  'max-length': 'maxLength',
  'max-bytes': 'maxBytes',
  'message-ttl-ms': 'messageTtlMs',
  'retention-ms': 'retentionMs',
} as const;

export async function listQueues({ api, flags }: Context): Promise<Output> {
  const body = (await get(api, `/queues${staleQuery(flags)}`)) as { queues?: Record<string, unknown>[] };
  const queues = [...(body.queues ?? [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const withPaused = queues.some((queue) => typeof queue.paused === 'boolean');
  const count = (queue: Record<string, unknown>, field: string) => (typeof queue[field] === 'number' ? (queue[field] as number) : 0);
  const rows = queues.map((queue) => [
    String(queue.name),
    String(count(queue, 'ready') + count(queue, 'delayed') + count(queue, 'inflight')),
    cell(queue.ready),
    cell(queue.delayed),
    cell(queue.inflight),
    cell(queue.dead),
    cell(queue.enqueued),
    cell(queue.acked),
    cell(queue.bytes),
    ...(withPaused ? [queue.paused === true ? 'paused' : ''] : []),
  ]);
  const header = ['QUEUE', 'DEPTH', 'READY', 'DELAYED', 'INFLIGHT', 'DEAD', 'ENQUEUED', 'ACKED', 'BYTES', ...(withPaused ? ['PAUSED'] : [])];
  return { json: body, text: queues.length === 0 ? 'no queues' : table(header, rows) };
}

export async function configure({ api, args, flags }: Context): Promise<Output> {
  const config: Record<string, unknown> = args.json === undefined ? {} : jsonObject(args.json, 'the configuration');
  for (const [flag, field] of Object.entries(CONFIG_FLAGS)) {
    const value = integerFlag(flags, flag, 0);
    if (value !== undefined) config[field] = value;
  }
  const deadLetterQueue = stringFlag(flags, 'dead-letter-queue');
  if (deadLetterQueue !== undefined) config.deadLetterQueue = deadLetterQueue;
  const baseMs = integerFlag(flags, 'backoff-base-ms', 0);
  const maxMs = integerFlag(flags, 'backoff-max-ms', 0);
  if (baseMs !== undefined || maxMs !== undefined) {
    const backoff = {
      ...((config.backoff as Record<string, unknown> | undefined) ?? {}),
      ...(baseMs === undefined ? {} : { baseMs }),
      ...(maxMs === undefined ? {} : { maxMs }),
    };
    if (backoff.baseMs === undefined || backoff.maxMs === undefined) throw new UsageError('a backoff needs both --backoff-base-ms and --backoff-max-ms');
    config.backoff = backoff;
  }
  // The whole config is sent each time: repeating it leaves the same queue.
  const reply = await api.send('PUT', `/queues/${segment(args.queue)}`, 'idempotent', config);
  const body = reply.body as { config?: Record<string, unknown> } & Record<string, unknown>;
  const settings = body.config ?? body;
  return { json: body, text: `${reply.status === 201 ? 'created' : 'configured'} queue ${args.queue}\n${keyValues(settings)}` };
}

export async function enqueue({ api, args, flags, io }: Context): Promise<Output> {
  const text = args.json === '-' ? await io.readStdin() : args.json!;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`the message body is not JSON: ${shortJson(text, 40)} (a string needs its quotes: '"text"')`);
  }
  const priority = integerFlag(flags, 'priority', 0);
  const delayMs = integerFlag(flags, 'delay-ms', 0);
  const ttlMs = integerFlag(flags, 'ttl-ms', 1);
  // A dedupId makes the enqueue safe to repeat on another node when an answer is lost.
  const dedupId = stringFlag(flags, 'dedup-id') ?? `quorumq-cli-${randomUUID()}`;
  const message = {
    body,
    dedupId,
    ...(priority === undefined ? {} : { priority }),
    ...(delayMs === undefined ? {} : { delayMs }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
  };
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/messages`, 'idempotent', message);
  const result = reply.body as { id?: string; seq?: number };
  return { json: result, text: `enqueued to ${args.queue}: id ${cell(result.id)}, seq ${cell(result.seq)}` };
}

export async function peek({ api, args, flags }: Context): Promise<Output> {
  const query = new URLSearchParams();
  for (const name of ['state', 'limit', 'after'] as const) {
    const value = name === 'limit' ? integerFlag(flags, name, 1) : stringFlag(flags, name);
    if (value !== undefined) query.set(name, String(value));
  }
  if (flags.stale === true) query.set('stale', '1');
  const search = query.size === 0 ? '' : `?${query}`;
  const page = (await get(api, `/queues/${segment(args.queue)}/messages${search}`)) as { messages?: Record<string, unknown>[]; next?: string };
  const messages = page.messages ?? [];
  const rows = messages.map((message) => [
    cell(message.id),
    cell(message.seq),
    cell(message.state),
    cell(message.priority),
    cell(message.attempt),
    cell(message.enqueuedAt, 'enqueuedAt'),
    shortJson(message.body),
  ]);
  const listing =
    messages.length === 0
      ? `no ${stringFlag(flags, 'state') ?? ''} messages in ${args.queue}`.replace('  ', ' ')
      : table(['ID', 'SEQ', 'STATE', 'PRIORITY', 'ATTEMPT', 'ENQUEUED', 'BODY'], rows);
  return { json: page, text: page.next === undefined ? listing : `${listing}\nmore: --after ${page.next}` };
}

export async function promote({ api, args }: Context): Promise<Output> {
  const ids = args.ids!.split(',').filter((id) => id !== '');
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/promote`, 'idempotent', { ids });
  const { promoted, rejected } = reply.body as { promoted: number; rejected: readonly { id: string; code: string }[] };
  const refused = rejected.map((rejection) => `${rejection.id} ${rejection.code}`).join(', ');
  return { json: reply.body, text: `promoted ${promoted} of ${ids.length} in ${args.queue}${refused === '' ? '' : `; not promoted: ${refused}`}` };
}

export async function pauseOrResume({ api, args }: Context, action: 'pause' | 'resume'): Promise<Output> {
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/${action}`, 'idempotent');
  const paused = (reply.body as { paused?: boolean } | undefined)?.paused ?? action === 'pause';
  return { json: reply.body, text: `queue ${args.queue} ${paused ? 'paused: it takes enqueues and delivers nothing' : 'delivers again'}` };
}

/**
 * Asks again while the node answers part of the move (it answers after about half its request
 * timeout), printing each part on stderr: a redrive of 100,000 shows its progress, and stdout keeps
 * only the totals (for --json). Each request moves whole batches that never move twice.
 */
export async function redrive({ api, args, flags, io }: Context): Promise<Output> {
  const to = stringFlag(flags, 'to');
  const max = integerFlag(flags, 'max', 1);
  const ratePerSec = integerFlag(flags, 'rate', 1);
  let moved = 0;
  let remaining = 0;
  for (;;) {
    const left = max === undefined ? undefined : max - moved;
    const body = { ...(to === undefined ? {} : { to }), ...(left === undefined ? {} : { max: left }), ...(ratePerSec === undefined ? {} : { ratePerSec }) };
    const reply = await api.send('POST', `/queues/${segment(args.queue)}/redrive`, 'once', body);
    const part = (reply.body ?? {}) as { moved?: number; remaining?: number };
    moved += part.moved ?? 0;
    remaining = part.remaining ?? 0;
    const done = (part.moved ?? 0) === 0 || remaining === 0 || (max !== undefined && moved >= max);
    if (!done) io.stderr(`moved ${moved} so far, ${remaining} left in ${args.queue}`);
    if (done) break;
  }
  return { json: { moved, remaining }, text: `moved ${moved} message${moved === 1 ? '' : 's'} out of ${args.queue}; ${remaining} left there` };
}

/** Prints each new message as a line (a JSON object per line with --json) until --count or Ctrl-C. */
export async function tail({ api, args, flags, io }: Context): Promise<Output> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  try {
    await tailQueue(api, args.queue!, {
      count: integerFlag(flags, 'count', 1),
      stopped: () => stopped,
      print: (message) => io.stdout(flags.json === true ? JSON.stringify(message) : `${message.id} ${message.state} ${shortJson(message.body)}`),
    });
    return PRINTED_AS_IT_WENT;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}
