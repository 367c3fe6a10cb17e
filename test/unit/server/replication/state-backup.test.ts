import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QueueStateMachine } from '../../../../src/queue/index.ts';
import type { Raft } from '../../../../src/raft/index.ts';
import { type CapturedBackup, StateBackups } from '../../../../src/server/replication/index.ts';
import { backupDigestPrefix } from '../../../../src/shared/backup-format.ts';

// Goal: a backup is the state at the applied index, taken between ready batches, its header's
// length and checksum those of the parts handed to the writer; one backup at a time.
function machineWith(count: number): QueueStateMachine {
  const machine = new QueueStateMachine();
  const messages = Array.from({ length: count }, (_, n) => ({ body: { n, text: 'x'.repeat(n % 50) }, priority: 0, delayMs: 0, bytes: 60 }));
  machine.apply({ type: 'enqueue', ts: 1_000, queue: 'q', messages });
  return machine;
}

const core = { status: () => ({ firstIndex: 1, applied: 12 }), snapshotMetaAt: () => ({ index: 12, term: 3 }) } as unknown as Raft;

describe('StateBackups', () => {
  it('hands over the state at the applied index with its length and checksum, and refuses a second at once', async () => {
    const machine = machineWith(2_000);
    const backups = new StateBackups({
      submit: (input) => setImmediate(() => input(core)),
      appliedIndex: () => 12,
      encodeState: () => machine.snapshotEncoding(),
      now: () => Date.UTC(2026, 0, 1),
    });
    let captured: CapturedBackup | undefined;
    let bytes = Buffer.alloc(0);
    const first = backups.run(async (backup) => {
      captured = backup;
      bytes = Buffer.concat(backup.parts);
    }, 12);
    await expect(backups.run(async () => undefined, 12)).rejects.toMatchObject({ code: 'OVERLOADED' });
    await first;
    const { sha256, ...fields } = captured!.header;
    expect(fields).toEqual({ format: 'quorumq-backup', version: 1, index: 12, term: 3, createdAt: '2026-01-01T00:00:00.000Z', bytes: bytes.length });
    expect(sha256).toBe(createHash('sha256').update(backupDigestPrefix(fields)).update(bytes).digest('hex'));
    expect(bytes).toEqual(Buffer.from(machine.snapshot()));
    await backups.run(async () => undefined, 12);
  });

  it('refuses, retryably, a state below the read barrier, and lets the encoding go even when packing fails', async () => {
    const machine = machineWith(10);
    let released = 0;
    let failPacking = false;
    const backups = new StateBackups({
      submit: (input) => setImmediate(() => input(core)),
      appliedIndex: () => 12,
      encodeState: () => {
        const encoding = machine.snapshotEncoding();
        return {
          packStep: () => {
            if (failPacking) throw new Error('packing failed');
            return encoding.packStep();
          },
          takeParts: () => encoding.takeParts(),
          release: () => {
            released++;
            encoding.release();
          },
        };
      },
      now: () => 0,
    });
    await expect(backups.run(async () => undefined, 13)).rejects.toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: 1_000 });
    expect(released).toBe(0);
    failPacking = true;
    await expect(backups.run(async () => undefined, 12)).rejects.toThrow(/packing failed/);
    expect(released).toBe(1);
    failPacking = false;
    await backups.run(async () => undefined, 12);
    expect(released).toBe(2);
  });
});
