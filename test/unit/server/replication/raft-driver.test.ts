import { describe, expect, it } from 'vitest';
import type { Message, Raft, Ready } from '../../../../src/raft/index.ts';
import { EMPTY_READY } from '../../../../src/server/membership/empty-ready.ts';
import { RaftDriver } from '../../../../src/server/replication/raft-driver.ts';
import type { RaftStorage } from '../../../../src/storage/index.ts';

const heartbeat = (to: string, readContext = ''): Message => ({ type: 'heartbeat', from: 'a', to, term: 2, commit: 7, readContext });

/** A core that hands out the given readies one by one, and storage whose writes finish when told. */
function driverWith(readies: Ready[]) {
  const sent: Message[] = [];
  const writes: (() => void)[] = [];
  const core = {
    hasReady: () => readies.length > 0,
    ready: () => readies.shift()!,
    advance: () => undefined,
  } as unknown as Raft;
  const storage = { save: () => new Promise<void>((resolve) => writes.push(resolve)) } as unknown as RaftStorage;
  const driver = new RaftDriver(core, storage, {
    send: (message) => sent.push(message),
    flush: () => undefined,
    apply: () => undefined,
    installSnapshot: () => undefined,
    onReadState: () => undefined,
    onReadFailure: () => undefined,
    onSoftState: () => undefined,
    onWritten: () => undefined,
    onStorageFailure: () => undefined,
    onFatal: () => undefined,
  });
  const writeStarted = async () => {
    for (let i = 0; i < 100 && driver.writeWaitingMs(performance.now()) === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(driver.writeWaitingMs(performance.now())).toBeGreaterThan(0);
  };
  return { driver, sent, writes, writeStarted };
}

describe('the Ready loop', () => {
  it("repeats the leader's latest plain heartbeats while a write is slow, and only between the bounds", async () => {
    const leading: Ready = { ...EMPTY_READY, softState: { role: 'leader', leader: 'a' }, messages: [heartbeat('b'), heartbeat('c', 'read-1')], mustSync: true };
    const { driver, sent, writes, writeStarted } = driverWith([leading]);
    driver.submit(() => undefined);
    await writeStarted();
    const now = performance.now();
    driver.repeatHeartbeats(now + 50, 100, 1000);
    expect(sent).toEqual([]);
    driver.repeatHeartbeats(now + 200, 100, 1000);
    // A heartbeat that confirms a read is not repeated: each read round counts its own answers.
    expect(sent).toEqual([heartbeat('b')]);
    driver.repeatHeartbeats(now + 1500, 100, 1000);
    expect(sent).toHaveLength(1);
    writes.shift()!();
  });

  it('repeats nothing once the node is no longer leader', async () => {
    const leading: Ready = { ...EMPTY_READY, softState: { role: 'leader', leader: 'a' }, messages: [heartbeat('b')], mustSync: true };
    const steppingDown: Ready = { ...EMPTY_READY, softState: { role: 'follower', leader: '' }, hardState: { term: 3, vote: '', commit: 7 }, mustSync: true };
    const { driver, sent, writes, writeStarted } = driverWith([leading, steppingDown]);
    driver.submit(() => undefined);
    await writeStarted();
    writes.shift()!();
    // The heartbeat goes out once after the first write; the second write is the step-down.
    await new Promise((resolve) => setImmediate(resolve));
    await writeStarted();
    const sentBefore = sent.length;
    driver.repeatHeartbeats(performance.now() + 200, 100, 1000);
    expect(sent).toHaveLength(sentBefore);
    writes.shift()!();
  });
});
