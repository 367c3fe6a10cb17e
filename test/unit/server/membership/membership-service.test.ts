import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTOPILOT } from '../../../../src/server/membership/autopilot.ts';
import { MembershipService } from '../../../../src/server/membership/membership-service.ts';
import { Prng } from '../../../../src/shared/index.ts';

function service(clock: { now: number }): MembershipService {
  return new MembershipService({
    id: 'a',
    address: 'host-a:7000',
    prng: new Prng(1),
    autopilot: DEFAULT_AUTOPILOT,
    now: () => clock.now,
    heardAgoMs: () => undefined,
    send: () => undefined,
    connect: () => undefined,
    log: pino({ level: 'silent' }),
  });
}

describe('membership service', () => {
  it('times how long members have been in their state on every tick, not only when asked as leader', () => {
    const clock = { now: 1000 };
    const membership = service(clock);
    membership.addPeer('b', 'host-b:7000');
    membership.tick();
    clock.now = 9000;
    const b = membership.health(clock.now).find((member) => member.id === 'b');
    expect(b).toMatchObject({ state: 'alive', since: 1000 });
  });

  it("starts a member's clock over when its state changes", () => {
    const clock = { now: 1000 };
    const membership = service(clock);
    membership.addPeer('b', 'host-b:7000');
    membership.tick();
    // Nobody answers b's probes: gossip suspects it after a few ticks.
    let b = membership.health(clock.now).find((member) => member.id === 'b');
    for (let tick = 0; tick < 200 && b?.state === 'alive'; tick++) {
      clock.now += 100;
      membership.tick();
      b = membership.health(clock.now).find((member) => member.id === 'b');
    }
    expect(b?.state).not.toBe('alive');
    expect(b?.since).toBeGreaterThan(1000);
  });
});
