import fc from 'fast-check';

/** One step of a simulated schedule. Node and message picks are taken modulo what exists. */
export type SimAction =
  | { readonly kind: 'deliver'; readonly pick: number }
  | { readonly kind: 'deliverOldest'; readonly count: number }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'duplicate'; readonly pick: number }
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'tickAll' }
  | { readonly kind: 'propose'; readonly node: number }
  | { readonly kind: 'proposeOnLeader' }
  | { readonly kind: 'read'; readonly node: number }
  | { readonly kind: 'crash'; readonly node: number; readonly outbox: boolean }
  | { readonly kind: 'crashLeader'; readonly outbox: boolean }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'isolate'; readonly node: number }
  | { readonly kind: 'isolateLeader' }
  | { readonly kind: 'cutOneWay'; readonly from: number; readonly to: number }
  | { readonly kind: 'split'; readonly mask: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'membership'; readonly change: 'addLearner' | 'addVoter' | 'demote' | 'remove'; readonly node: number }
  | { readonly kind: 'transfer'; readonly node: number }
  | { readonly kind: 'compact'; readonly node: number }
  /** The node's transport reports its link to its leader closed (true or not). */
  | { readonly kind: 'linkDown'; readonly node: number }
  /** A stopped node's disk loses entries it acknowledged; it restarts recovering. */
  | { readonly kind: 'damage'; readonly node: number; readonly pick: number };

export interface ScheduleParams {
  readonly voters: number;
  readonly spares: number;
  readonly seed: number;
  readonly electionTicks: number;
  readonly appendEntriesMax: number;
  readonly inflightAppendsMax: number;
  readonly appendBytesMax: number;
  /** A multiple of appendBytesMax: the in-flight byte window per follower. */
  readonly inflightBytesFactor: number;
  /** Percent of deliveries that leave a copy in flight (an at-least-once transport retransmitting). */
  readonly redeliverPercent: number;
  /** Per mille of ready batches during which the node dies after its early sends, before its write. */
  readonly crashMidWritePermille: number;
  /** An autopilot that tries a membership change the moment a node wins an election. */
  readonly reconfigureOnElection: boolean;
}

const node = fc.nat({ max: 15 });
const pick = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat({ max: 1 << 16 }), weight: 1 });

/** Weighted so that most steps move messages and time, and faults are frequent but not constant. */
export const actionArbitrary: fc.Arbitrary<SimAction> = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 1, max: 12 }).map((count) => ({ kind: 'deliverOldest' as const, count })) },
  { weight: 12, arbitrary: pick.map((p) => ({ kind: 'deliver' as const, pick: p })) },
  { weight: 2, arbitrary: pick.map((p) => ({ kind: 'drop' as const, pick: p })) },
  { weight: 2, arbitrary: pick.map((p) => ({ kind: 'duplicate' as const, pick: p })) },
  { weight: 5, arbitrary: node.map((n) => ({ kind: 'tick' as const, node: n })) },
  { weight: 12, arbitrary: fc.constant({ kind: 'tickAll' as const }) },
  { weight: 2, arbitrary: node.map((n) => ({ kind: 'propose' as const, node: n })) },
  { weight: 10, arbitrary: fc.constant({ kind: 'proposeOnLeader' as const }) },
  { weight: 4, arbitrary: node.map((n) => ({ kind: 'read' as const, node: n })) },
  { weight: 2, arbitrary: fc.record({ node, outbox: fc.boolean() }).map((r) => ({ kind: 'crash' as const, ...r })) },
  { weight: 1, arbitrary: fc.boolean().map((outbox) => ({ kind: 'crashLeader' as const, outbox })) },
  { weight: 4, arbitrary: node.map((n) => ({ kind: 'restart' as const, node: n })) },
  { weight: 1, arbitrary: node.map((n) => ({ kind: 'isolate' as const, node: n })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'isolateLeader' as const }) },
  { weight: 1, arbitrary: fc.record({ from: node, to: node }).map((r) => ({ kind: 'cutOneWay' as const, ...r })) },
  { weight: 1, arbitrary: fc.nat({ max: 127 }).map((mask) => ({ kind: 'split' as const, mask })) },
  { weight: 3, arbitrary: fc.constant({ kind: 'heal' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ change: fc.constantFrom('addLearner', 'addVoter', 'demote', 'remove'), node }).map((r) => ({ kind: 'membership' as const, ...r })),
  },
  { weight: 1, arbitrary: node.map((n) => ({ kind: 'transfer' as const, node: n })) },
  { weight: 2, arbitrary: node.map((n) => ({ kind: 'compact' as const, node: n })) },
  { weight: 1, arbitrary: node.map((n) => ({ kind: 'linkDown' as const, node: n })) },
  { weight: 2, arbitrary: fc.record({ node, pick }).map((r) => ({ kind: 'damage' as const, ...r })) },
);

export function paramsArbitrary(voters: number): fc.Arbitrary<ScheduleParams> {
  return fc.record({
    voters: fc.constant(voters),
    spares: fc.integer({ min: 0, max: 2 }),
    seed: fc.nat(),
    electionTicks: fc.integer({ min: 3, max: 8 }),
    // Small appends split a leader's catch-up into pieces, which is where commit-rule bugs show.
    appendEntriesMax: fc.integer({ min: 1, max: 8 }),
    inflightAppendsMax: fc.integer({ min: 1, max: 8 }),
    // Entries weigh 28 bytes here: small byte limits make the byte window, not the count, bind.
    appendBytesMax: fc.integer({ min: 28, max: 200 }),
    inflightBytesFactor: fc.integer({ min: 1, max: 4 }),
    redeliverPercent: fc.constantFrom(0, 0, 10, 30),
    crashMidWritePermille: fc.constantFrom(0, 0, 5, 20),
    reconfigureOnElection: fc.boolean(),
  });
}

export function scheduleArbitrary(voters: number, steps: number): fc.Arbitrary<[ScheduleParams, SimAction[]]> {
  return fc.tuple(paramsArbitrary(voters), fc.array(actionArbitrary, { minLength: steps, maxLength: steps }));
}

/** One line per step, for a human reading a shrunk counterexample. */
export function describeAction(action: SimAction): string {
  const { kind, ...rest } = action;
  const args = Object.entries(rest)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return args === '' ? kind : `${kind} ${args}`;
}
