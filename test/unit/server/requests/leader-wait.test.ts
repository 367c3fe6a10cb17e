import { describe, expect, it } from 'vitest';
import { LeaderWait } from '../../../../src/server/requests/leader-wait.ts';

function setUp(waitMs: number) {
  const state = { leader: '', reachable: true, cutOff: false };
  const wait = new LeaderWait({ leader: () => state.leader, reachable: () => state.reachable, cutOff: () => state.cutOff, waitMs });
  return { state, wait };
}

describe('LeaderWait', () => {
  it('answers with the leader once one is named, as soon as it is', async () => {
    const { state, wait } = setUp(60_000);
    const waiting = wait.leader();
    state.leader = 'b';
    wait.onLeaderChange();
    // Woken by the change within a turn of the event loop, not by a later poll.
    const nextTurn = new Promise((resolve) => setImmediate(() => resolve('still waiting')));
    await expect(Promise.race([waiting, nextTurn])).resolves.toBe('b');
  });

  it('refuses with NO_LEADER once the wait runs out, and at once on a node cut off from the rest', async () => {
    const { state, wait } = setUp(100);
    await expect(wait.leader()).rejects.toMatchObject({ code: 'NO_LEADER', message: expect.stringMatching(/no leader is known/) });
    state.cutOff = true;
    const long = setUp(60_000);
    long.state.cutOff = true;
    await expect(long.wait.leader()).rejects.toMatchObject({ code: 'NO_LEADER', message: expect.stringMatching(/cut off/) });
  });

  it('does not send to a leader it cannot reach', async () => {
    const { state, wait } = setUp(100);
    state.leader = 'b';
    state.reachable = false;
    await expect(wait.leader()).rejects.toMatchObject({ code: 'NO_LEADER' });
  });
});
