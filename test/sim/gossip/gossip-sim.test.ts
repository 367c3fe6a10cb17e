import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_LIMITS, failureDetectionTicksMax } from '../../../src/gossip/index.ts';
import { GossipSim } from './gossip-sim.ts';

// Fixed seeds keep CI reproducible; fast-check prints the failing scenario (with its sim seed).
const LIMITS = DEFAULT_GOSSIP_LIMITS;
const LOSS = 0.1;
/** One message in five takes two ticks instead of one. */
const LATE = 0.2;
const PROBE_ROUNDS = 200;
/** A join rides on syncs (one per member per interval); three intervals allow for lost ones. */
const JOIN_TICKS_MAX = 3 * LIMITS.syncIntervalTicks;

interface Scenario {
  readonly size: number;
  readonly seed: number;
  /** Chooses the victim, the leaver or the partition. */
  readonly pick: number;
  /** Ticks before the fault, so that faults land at every phase of the probe cycle. */
  readonly offset: number;
}

const scenarios: fc.Arbitrary<Scenario> = fc.record({
  size: fc.constantFrom(5, 8),
  seed: fc.integer({ min: 1, max: 0x7fff_ffff }),
  pick: fc.nat(),
  offset: fc.nat({ max: 10 * LIMITS.probeIntervalTicks }),
});

function check(seed: number, numRuns: number, property: (scenario: Scenario) => void): void {
  fc.assert(fc.property(scenarios, property), { seed, numRuns });
}

/** A cluster joined through its first node, with every node holding every other alive. */
function formed({ size, seed }: Scenario): GossipSim {
  const sim = new GossipSim({ size, seed, lossProbability: LOSS, lateProbability: LATE, limits: {} });
  sim.joinThroughFirst();
  const took = sim.runUntil(() => sim.ids.every((id) => sim.aliveSet(id).length === size), JOIN_TICKS_MAX);
  expect(took, 'every node learns every member through one seed').toBeDefined();
  return sim;
}

/** Splits the cluster for `duration` ticks (any split), heals, and returns the ticks until one view. */
function partitionThenHeal(scenario: Scenario, duration: number, bound: number): number | undefined {
  const sim = formed(scenario);
  const everyone = sim.ids.join();
  const mask = 1 + (scenario.pick % (2 ** scenario.size - 2));
  sim.partition(sim.ids.filter((_, i) => (mask >> i) & 1));
  sim.run(duration);
  expect(
    sim.ids.every((id) => sim.aliveSet(id).join() !== everyone),
    'each side buried the other',
  ).toBe(true);
  sim.heal();
  return sim.runUntil(() => sim.ids.every((id) => sim.aliveSet(id).join() === everyone), bound);
}

function deadEventsAbout(sim: GossipSim, id: string): number {
  return sim.events.filter((event) => event.type === 'dead' && event.member.id === id).length;
}

describe('gossip under loss, kills, partitions and leaves (simulation)', () => {
  it(`gossip: a healthy member is never declared dead (5|8 nodes, 10% loss, ${PROBE_ROUNDS} probe rounds)`, () => {
    let probesFailed = 0;
    let refutations = 0;
    check(7, 50, (scenario) => {
      const sim = formed(scenario);
      sim.run(PROBE_ROUNDS * LIMITS.probeIntervalTicks);
      expect(sim.events.filter((event) => event.type === 'dead')).toEqual([]);
      for (const counters of sim.counters()) {
        probesFailed += counters.probesFailed;
        refutations += counters.refutations;
      }
    });
    // Loss did cause false suspicions, and refutation is what kept them from becoming deaths.
    expect(probesFailed).toBeGreaterThan(40);
    expect(refutations).toBeGreaterThan(40);
  });

  it('gossip: a killed member is dead on every live node within failureDetectionTicksMax (5|8 nodes, 10% loss)', () => {
    check(11, 50, (scenario) => {
      const sim = formed(scenario);
      sim.run(scenario.offset);
      const victim = sim.ids[scenario.pick % scenario.size]!;
      sim.kill(victim);
      const bound = failureDetectionTicksMax(LIMITS, scenario.size);
      const took = sim.runUntil(() => sim.live().every((id) => sim.view(id, victim)?.state === 'dead'), bound);
      expect(took, `dead everywhere within ${bound} ticks`).toBeDefined();
    });
  });

  it('gossip: after a short partition heals every node converges to one alive set within 4 probe rounds (5|8 nodes, 10% loss)', () => {
    check(13, 50, (scenario) => {
      // Long enough for each side to bury the other, short of deadProbeTicks: the dead are still
      // probed, so each member reaches every other within two rounds, and four allow for losses.
      const detection = failureDetectionTicksMax(LIMITS, scenario.size);
      const duration = detection + ((scenario.offset * 7) % (LIMITS.deadProbeTicks - detection));
      const bound = 4 * (scenario.size - 1) * LIMITS.probeIntervalTicks;
      expect(partitionThenHeal(scenario, duration, bound), `one view within ${bound} ticks`).toBeDefined();
    });
  });

  it('gossip: after a long partition heals every node converges to one alive set within 3 syncs (5|8 nodes, 10% loss)', () => {
    check(19, 20, (scenario) => {
      // Past deadProbeTicks nobody probes the other side: only the periodic sync, which picks the
      // dead too, crosses the healed cut; three intervals allow for lost exchanges.
      const duration = LIMITS.deadProbeTicks + failureDetectionTicksMax(LIMITS, scenario.size) + scenario.offset;
      const bound = 3 * LIMITS.syncIntervalTicks;
      expect(partitionThenHeal(scenario, duration, bound), `one view within ${bound} ticks`).toBeDefined();
    });
  });

  it('gossip: a member that leaves is seen as left, never dead, by everyone (5|8 nodes, 10% loss)', () => {
    check(17, 50, (scenario) => {
      const sim = formed(scenario);
      sim.run(scenario.offset);
      const leaver = sim.ids[scenario.pick % scenario.size]!;
      sim.node(leaver).leave();
      // The node keeps gossiping until its claim is out, then stops as a shut-down process would.
      const announced = sim.runUntil(() => sim.node(leaver).leaveAnnounced(), 10 * LIMITS.probeIntervalTicks);
      expect(announced, 'the left claim is sent out').toBeDefined();
      sim.kill(leaver);
      const bound = failureDetectionTicksMax(LIMITS, scenario.size) + LIMITS.syncIntervalTicks;
      const took = sim.runUntil(() => sim.live().every((id) => sim.view(id, leaver)?.state === 'left'), bound);
      expect(took, `left everywhere within ${bound} ticks`).toBeDefined();
      expect(deadEventsAbout(sim, leaver)).toBe(0);
    });
  });
});
