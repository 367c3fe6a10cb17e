import { describe, expect, it } from 'vitest';
import { QueueStateMachine, RELEASE_CLUSTER_VERSION } from '../../../../src/queue/index.ts';
import type { Entry } from '../../../../src/raft/index.ts';
import { EntryCommands, UnsupportedCommandError } from '../../../../src/server/replication/entry-commands.ts';
import { encode } from '../../../../src/shared/codec.ts';

function entryOf(index: number, record: unknown): Entry {
  return { index, term: 1, kind: 'normal', data: encode(record) };
}

describe('EntryCommands', () => {
  const setup = () => {
    const rejected: string[] = [];
    const applied: string[] = [];
    const commands = new EntryCommands({
      machine: new QueueStateMachine(),
      onApplied: (command) => applied.push(command.type),
      onRejected: (reason) => rejected.push(reason),
    });
    return { commands, rejected, applied };
  };

  it('stops at a command of a type this release does not know, naming the entry and the type, and applies nothing of the entry', () => {
    const { commands, applied } = setup();
    const entry = entryOf(7, {
      type: 'batch',
      commands: [
        { type: 'tick', ts: 1 },
        { type: 'topicPublish', ts: 1 },
      ],
    });
    expect(() => commands.apply(entry)).toThrow(UnsupportedCommandError);
    expect(() => commands.apply(entry)).toThrow(/log entry 7 holds a "topicPublish" command, which this release/);
    expect(applied).toEqual([]);
  });

  it('stops at a raise of the cluster version past what this release supports', () => {
    const { commands } = setup();
    const entry = entryOf(9, { type: 'clusterVersion', ts: 1, version: RELEASE_CLUSTER_VERSION + 1 });
    expect(() => commands.apply(entry)).toThrow(/log entry 9 raises the cluster version to \d+, which this release .* does not support/);
    expect(commands.apply(entryOf(10, { type: 'clusterVersion', ts: 1, version: RELEASE_CLUSTER_VERSION }))).toEqual([
      { type: 'clusterVersion', version: RELEASE_CLUSTER_VERSION },
    ]);
  });

  it('skips an entry that does not decode into commands, and a command that fails to apply, alike on every replica', () => {
    const { commands, rejected, applied } = setup();
    expect(commands.apply({ index: 1, term: 1, kind: 'normal', data: Uint8Array.of(0xc1) })).toEqual([]);
    const results = commands.apply(
      entryOf(2, {
        type: 'batch',
        commands: [
          { type: 'enqueue', ts: 1, queue: 'q' },
          { type: 'tick', ts: 2 },
        ],
      }),
    );
    expect(results.map((result) => result.type)).toEqual(['error', 'ticked']);
    expect(rejected).toEqual(['decode', 'apply']);
    expect(applied).toEqual(['tick']);
  });
});
