import { describe, expect, it } from 'vitest';
import { commandsOf, type LogRecord, QueueStateMachine } from '../../../../src/queue/index.ts';
import type { Raft } from '../../../../src/raft/index.ts';
import { QueueService } from '../../../../src/server/requests/queue-service.ts';
import { decode } from '../../../../src/shared/codec.ts';
import type { MessageInput } from '../../../../src/shared/index.ts';

// Goal: a long-polling receive that an enqueue wakes leases the new message in the enqueue's own
// log entry (one replication round for both), and still answers correctly when that enqueue does
// not make a message ready.

/** A leader with a log it commits only when told to: each proposal becomes one entry. */
class ManualLog {
  readonly entries: Uint8Array[] = [];
  leader = true;
  private inputs: ((raft: Raft) => void)[] = [];
  private readonly raft = {
    propose: (data: Uint8Array) => {
      if (!this.leader) return { ok: false, error: { code: 'NOT_LEADER', message: 'not the leader' } };
      this.entries.push(data);
      return { ok: true, index: this.entries.length, term: 1 };
    },
  } as unknown as Raft;

  submit = (input: (raft: Raft) => void): void => {
    this.inputs.push(input);
  };

  /** Runs the queued inputs (the driver's next batch), then applies every entry not yet applied. */
  commit(service: QueueService, machine: QueueStateMachine, from: number): number {
    const inputs = this.inputs;
    this.inputs = [];
    for (const input of inputs) input(this.raft);
    for (let index = from + 1; index <= this.entries.length; index++) {
      const results = commandsOf(decode(this.entries[index - 1]!) as LogRecord).map((command) => {
        const result = machine.apply(command);
        service.onApplied(command);
        return result;
      });
      service.onEntryApplied(index, 1, results);
    }
    return this.entries.length;
  }

  commandTypes(index: number): string[] {
    return commandsOf(decode(this.entries[index - 1]!) as LogRecord).map((command) => command.type);
  }
}

/** A leader's queue service over a log that commits only when a test steps it. */
function setUp(wallMs = 1_000_000, membersBelow: (version: number) => readonly string[] = (version) => (version > 1 ? ['n3 (supports 1)'] : [])) {
  const log = new ManualLog();
  const machine = new QueueStateMachine();
  const service = new QueueService({
    submit: log.submit,
    machine,
    clusterWallMs: () => wallMs,
    monoMs: () => 0,
    proposalTimeoutMs: 10_000,
    pendingProposalsMax: 1000,
    memoryBudgetBytes: 1 << 20,
    membersBelow,
  });
  let applied = 0;
  return {
    service,
    machine,
    /** This node is no longer leader: the log refuses proposals. */
    depose: () => {
      log.leader = false;
    },
    /** Lets pending callbacks run, then the driver's next batch: proposes, commits and applies. */
    step: async (): Promise<void> => {
      await flush();
      applied = log.commit(service, machine, applied);
    },
    /** The commands of the newest entry. */
    newestEntry: () => log.commandTypes(log.entries.length),
    /** The last command of the newest entry. */
    newestCommand: () => commandsOf(decode(log.entries[log.entries.length - 1]!) as LogRecord).at(-1),
    entryCount: () => log.entries.length,
    enqueue: (message: MessageInput) => service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [message] }) as Promise<{ id: string }>,
    /** A long poll: it waits up to 5 s for a message. */
    poll: (max: number) => service.execute({ op: 'receive', queue: 'jobs', max, waitMs: 5000 }) as Promise<{ messages: { id: string; body: unknown }[] }>,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, for asserting that a long poll is still waiting. */
function watch(promise: Promise<unknown>): () => boolean {
  let settled = false;
  void promise.finally(() => (settled = true));
  return () => settled;
}

describe('the queue service on the leader', () => {
  it('puts a waiting receive in the same entry as the enqueue that wakes it', async () => {
    const queue = setUp();
    const received = queue.poll(10);
    await flush();
    expect(queue.entryCount()).toBe(0);
    const enqueued = queue.enqueue({ body: 'a' });
    await queue.step();
    expect(queue.entryCount()).toBe(1);
    expect(queue.newestEntry()).toEqual(['enqueue', 'receive']);
    const { id } = await enqueued;
    expect((await received).messages.map((message) => message.id)).toEqual([id]);
  });

  it('wakes a waiting receive when this node stops being leader, so that its caller goes elsewhere at once', async () => {
    const queue = setUp();
    let answer: unknown;
    void queue.poll(10).then(
      () => (answer = 'leased'),
      (error: unknown) => (answer = error),
    );
    await flush();
    queue.depose();
    queue.service.onLeadershipLost(1000);
    await queue.step();
    await flush();
    expect(answer).toMatchObject({ code: 'NO_LEADER' });
  });

  it('keeps waiting when the enqueue that woke it brings only a delayed message', async () => {
    const queue = setUp();
    const received = queue.poll(10);
    const answered = watch(received);
    await flush();
    void queue.enqueue({ body: 'later', delayMs: 60_000 });
    await queue.step();
    expect(queue.newestEntry()).toEqual(['enqueue']);
    await flush();
    expect(answered()).toBe(false);
    void queue.enqueue({ body: 'now' });
    await queue.step();
    expect((await received).messages.map((message) => message.body)).toEqual(['now']);
  });

  it('wakes one waiting receive per message being enqueued, the longest waiting first', async () => {
    const queue = setUp();
    const first = queue.poll(1);
    const secondAnswered = watch(queue.poll(1));
    await flush();
    void queue.enqueue({ body: 'one' });
    await queue.step();
    expect(queue.newestEntry()).toEqual(['enqueue', 'receive']);
    expect((await first).messages).toHaveLength(1);
    await flush();
    expect(secondAnswered()).toBe(false);
  });

  it('goes back to waiting when the enqueue it rode along with brought nothing new', async () => {
    const queue = setUp();
    // A message enqueued and consumed earlier: its dedup id is still remembered.
    void queue.enqueue({ body: 'one', dedupId: 'd' });
    await queue.step();
    const taken = queue.poll(1);
    await queue.step();
    expect((await taken).messages).toHaveLength(1);

    const waiting = queue.poll(1);
    const answered = watch(waiting);
    await flush();
    void queue.enqueue({ body: 'one again', dedupId: 'd' });
    await queue.step();
    expect(queue.newestEntry()).toEqual(['enqueue', 'receive']);
    await flush();
    expect(answered()).toBe(false);
    void queue.enqueue({ body: 'two' });
    await queue.step();
    expect((await waiting).messages.map((message) => message.body)).toEqual(['two']);
  });

  it('stamps entries in whole milliseconds, though the cluster clock has a fraction', async () => {
    const node = setUp(1_000_000.5383);
    const enqueued = node.enqueue({ body: 'x' });
    await node.step();
    const { id } = await enqueued;
    expect(node.machine.messageStatus('jobs', id)?.enqueuedAt).toBe(1_000_000);
  });

  it('writes the settings a new queue starts with into the entry that creates it, and only there', async () => {
    const node = setUp();
    const first = node.enqueue({ body: 'a' });
    await node.step();
    await first;
    expect(node.newestCommand()).toMatchObject({ type: 'enqueue', createWith: { maxDeliveries: 20 } });
    expect(node.machine.stats('jobs')?.config.maxDeliveries).toBe(20);
    const second = node.enqueue({ body: 'b' });
    await node.step();
    await second;
    expect(node.newestCommand()).not.toHaveProperty('createWith');
    const dead = node.service.execute({ op: 'enqueue', queue: 'jobs.dlq', batch: false, messages: [{ body: 'c' }] });
    await node.step();
    await dead;
    expect(node.newestCommand()).not.toHaveProperty('createWith');
    expect(node.machine.stats('jobs.dlq')?.config.maxDeliveries).toBe(0);
  });

  it('refuses a command the cluster version does not include, before anything reaches the log, naming who holds it back; proposes it once raised', async () => {
    const node = setUp();
    const promote = { op: 'promote' as const, queue: 'jobs', ids: ['1'] };
    await expect(node.service.execute(promote)).rejects.toMatchObject({
      code: 'FEATURE_NOT_ENABLED',
      message: expect.stringMatching(/promote needs cluster version 2; the cluster runs version 1 .*n3 \(supports 1\) still runs an older release/),
    });
    expect(node.entryCount()).toBe(0);
    const raised = node.service.raiseClusterVersion(2);
    await node.step();
    expect(await raised).toBe(2);
    const promoted = node.service.execute(promote);
    await node.step();
    expect(await promoted).toEqual({ promoted: 0, rejected: [{ id: '1', code: 'NOT_FOUND' }] });
  });

  it('answers a retryable UNAVAILABLE when every member supports the version and only the raise is due', async () => {
    const node = setUp(1_000_000, () => []);
    await expect(node.service.execute({ op: 'promote', queue: 'jobs', ids: ['1'] })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      retryAfterMs: 500,
      message: expect.stringMatching(/promote needs cluster version 2, which every member supports: it is being raised from 1; retry/),
    });
    expect(node.entryCount()).toBe(0);
  });
});
