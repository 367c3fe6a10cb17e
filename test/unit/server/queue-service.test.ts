import { describe, expect, it } from 'vitest';
import { commandsOf, type LogRecord, QueueStateMachine } from '../../../src/queue/index.ts';
import type { Raft } from '../../../src/raft/index.ts';
import { QueueService } from '../../../src/server/queue-service.ts';
import { decode } from '../../../src/shared/codec.ts';

// Goal: a long-polling receive that an enqueue wakes leases the new message in the enqueue's own
// log entry (one replication round for both), and still answers correctly when that enqueue does
// not make a message ready.

/** A leader with a log it commits only when told to: each proposal becomes one entry. */
class ManualLog {
  readonly entries: Uint8Array[] = [];
  private inputs: ((raft: Raft) => void)[] = [];
  private readonly raft = {
    propose: (data: Uint8Array) => {
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

function setUp() {
  const log = new ManualLog();
  const machine = new QueueStateMachine();
  let mono = 0;
  const service = new QueueService({
    submit: log.submit,
    machine,
    clusterWallMs: () => 1_000_000,
    monoMs: () => mono,
    proposalTimeoutMs: 10_000,
    pendingProposalsMax: 1000,
    memoryBudgetBytes: 1 << 20,
  });
  return { log, machine, service, advance: (ms: number) => (mono += ms) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the queue service on the leader', () => {
  it('puts a waiting receive in the same entry as the enqueue that wakes it', async () => {
    const { log, machine, service } = setUp();
    const received = service.execute({ op: 'receive', queue: 'jobs', max: 10, waitMs: 5000 });
    await flush();
    expect(log.entries).toHaveLength(0);
    const enqueued = service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'a' }] });
    await flush();
    log.commit(service, machine, 0);
    expect(log.entries).toHaveLength(1);
    expect(log.commandTypes(1)).toEqual(['enqueue', 'receive']);
    const { id } = (await enqueued) as { id: string };
    const { messages } = (await received) as { messages: { id: string }[] };
    expect(messages.map((message) => message.id)).toEqual([id]);
  });

  it('keeps waiting when the enqueue that woke it brings only a delayed message', async () => {
    const { log, machine, service } = setUp();
    let answered = false;
    const received = service.execute({ op: 'receive', queue: 'jobs', max: 10, waitMs: 5000 }).finally(() => (answered = true));
    await flush();
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'later', delayMs: 60_000 }] });
    await flush();
    let applied = log.commit(service, machine, 0);
    expect(log.commandTypes(1)).toEqual(['enqueue']);
    await flush();
    expect(answered).toBe(false);
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'now' }] });
    await flush();
    applied = log.commit(service, machine, applied);
    const { messages } = (await received) as { messages: { body: unknown }[] };
    expect(messages.map((message) => message.body)).toEqual(['now']);
  });

  it('wakes one waiting receive per message being enqueued, the longest waiting first', async () => {
    const { log, machine, service } = setUp();
    const first = service.execute({ op: 'receive', queue: 'jobs', max: 1, waitMs: 5000 });
    let secondAnswered = false;
    void service.execute({ op: 'receive', queue: 'jobs', max: 1, waitMs: 5000 }).finally(() => (secondAnswered = true));
    await flush();
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'one' }] });
    await flush();
    log.commit(service, machine, 0);
    expect(log.commandTypes(1)).toEqual(['enqueue', 'receive']);
    expect(((await first) as { messages: unknown[] }).messages).toHaveLength(1);
    await flush();
    expect(secondAnswered).toBe(false);
  });

  it('goes back to waiting when the enqueue it rode along with brought nothing new', async () => {
    const { log, machine, service } = setUp();
    // A message enqueued and consumed earlier: its dedup id is still remembered.
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'one', dedupId: 'd' }] });
    await flush();
    let applied = log.commit(service, machine, 0);
    const taken = service.execute({ op: 'receive', queue: 'jobs', max: 1, waitMs: 5000 });
    await flush();
    applied = log.commit(service, machine, applied);
    expect(((await taken) as { messages: unknown[] }).messages).toHaveLength(1);

    let answered = false;
    const waiting = service.execute({ op: 'receive', queue: 'jobs', max: 1, waitMs: 5000 }).finally(() => (answered = true));
    await flush();
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'one again', dedupId: 'd' }] });
    await flush();
    applied = log.commit(service, machine, applied);
    expect(log.commandTypes(applied)).toEqual(['enqueue', 'receive']);
    await flush();
    expect(answered).toBe(false);
    void service.execute({ op: 'enqueue', queue: 'jobs', batch: false, messages: [{ body: 'two' }] });
    await flush();
    applied = log.commit(service, machine, applied);
    const { messages } = (await waiting) as { messages: { body: unknown }[] };
    expect(messages.map((message) => message.body)).toEqual(['two']);
  });
});
