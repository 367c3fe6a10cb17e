import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { decodeChecked, encode } from '../../src/shared/codec.ts';
import { ERROR_CODES } from '../../src/shared/index.ts';
import { isPeerFrame, PEER_FRAME_DEPTH_MAX, PEER_PROTOCOL_VERSION } from '../../src/transport/peer-frames.ts';
import { clientFrame } from './client-fuzz.ts';
import { hostileFrameBytes } from './hostile-msgpack.ts';
import { hostileString, hostileValue, requestFields } from './hostile-values.ts';

/**
 * Peer frames (src/transport/peer-frames.ts, src/raft/types.ts, src/gossip/types.ts,
 * src/transport/snapshot-chunks.ts) as a stranger or a fuzzing peer sends them.
 *
 * What the generators hold back, and why. A peer that holds the cluster key is a member by the
 * threat model (docs/operations.md, "Security"): a perfectly forged, well-shaped Raft frame from it may
 * legitimately rewrite the log (a Byzantine member), which no Raft implementation survives. So
 * with the key, every frame that passes the node's own shape check (`isPeerFrame`) also keeps to
 * these rules, and a mutation that would break them falls back to the unmutated frame:
 * - Raft frames come at terms no higher than the cluster's term + 3 (they may start elections);
 * - an append that carries entries starts 1000 past every log's end, so it can only be refused,
 *   never overwrite an entry; an empty append and a heartbeat carry a commit no higher than what
 *   every node had committed when the batch began;
 * - an appendResponse never claims a match past that commit, and vote responses grant nothing at
 *   the current term (a granted vote from a peer the autopilot made a voter could elect a leader
 *   without a majority of real nodes);
 * - gossip claims about real members say only alive or suspect, at incarnations up to 20, which
 *   they refute at once (a `left` or `dead` claim at a high incarnation is a lie only a member can
 *   tell, and it would cost a real member its place);
 * - a snapshot whose digest matches its data comes only at a stale term, which Raft ignores.
 * Frames that fail the shape check are as hostile as the generators make them: they must close the
 * link and change nothing. Without the key nothing may land, so there the Raft frames come at
 * terms 1000 and more above the cluster's: a term that high on any node would prove one landed.
 */

export interface PeerContext {
  /** The id the fuzzing peer claims. */
  readonly selfId: string;
  /** The real nodes' ids, by node index. */
  readonly memberIds: readonly string[];
  readonly memberAddresses: readonly string[];
  /** The highest term any node had when the batch began. */
  readonly term: number;
  /** The highest last log index (the leader's) when the batch began. */
  readonly lastIndex: number;
  /** The lowest commit index of any node when the batch began. */
  readonly commit: number;
  /** An address where nothing listens: what the fuzzing peer claims to be reachable at. */
  readonly deadAddresses: readonly string[];
  /** With the key: frames that land are bounded as described above. Without: terms at or above `sentinelTerm`. */
  readonly keyed: boolean;
  readonly sentinelTerm: number;
}

export type PeerFrameInput = { readonly node: number; readonly frame: Record<string, unknown> } | { readonly node: number; readonly bytes: Uint8Array };

/** Whether the node accepts these bytes as a peer frame (its own check), and the frame it reads. */
export function acceptedFrame(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const frame = decodeChecked(bytes, { depthMax: PEER_FRAME_DEPTH_MAX });
    return isPeerFrame(frame) ? (frame as unknown as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function peerFrameBytes(input: PeerFrameInput): Uint8Array {
  return 'bytes' in input ? input.bytes : encode(input.frame);
}

const RAFT_TYPES = [
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'vote',
  'preVote',
  'voteResponse',
  'preVoteResponse',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
] as const;

/** Keys to mutate in a Raft message: those of every type, so a type gets another's fields too. */
const RAFT_KEYS = [
  'type',
  'from',
  'to',
  'term',
  'prevIndex',
  'prevTerm',
  'entries',
  'commit',
  'index',
  'reject',
  'rejectHint',
  'rejectTerm',
  'recovering',
  'readContext',
  'lastIndex',
  'lastTerm',
  'transfer',
  'refusal',
  'snapshot',
];

function idArbitrary(context: PeerContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(context.selfId) },
    { weight: 2, arbitrary: fc.constantFrom(...context.memberIds) },
    { weight: 1, arbitrary: fc.constantFrom('fz-ghost-0', 'fz-ghost-1', 'x'.repeat(256), 'é') },
  );
}

function termArbitrary(context: PeerContext): fc.Arbitrary<number> {
  if (!context.keyed) return fc.integer({ min: context.sentinelTerm, max: context.sentinelTerm + 1_000_000 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: Math.max(0, context.term - 2), max: context.term + 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: context.term + 3 }) },
  );
}

/** An index anywhere from 0 to well past the end of the log, and the 2^53 boundary. */
function indexArbitrary(context: PeerContext): fc.Arbitrary<number> {
  return fc.oneof(
    fc.nat({ max: context.lastIndex + 10 }),
    fc.constantFrom(0, 1, context.commit, context.lastIndex, context.lastIndex + 1, 2 ** 31, 2 ** 53 - 1),
  );
}

const bytesArbitrary = fc.uint8Array({ maxLength: 64 });

const membership = (context: PeerContext) =>
  fc.oneof(
    fc.record({ voters: fc.constant([context.selfId]), learners: fc.constant([] as string[]) }),
    fc.record({ voters: fc.constant([] as string[]), learners: fc.constant([] as string[]) }),
    fc.record({ voters: fc.subarray([...context.memberIds, context.selfId, 'fz-ghost-0']), learners: fc.constant(['fz-ghost-1']) }),
    fc.record({ voters: fc.constant(Array.from({ length: 64 }, (_, index) => `v${index}`)), learners: fc.constant([] as string[]) }),
  );

/** Entries `prevIndex + 1, ...` with terms that never fall and never pass `term`. */
function entriesAfter(context: PeerContext, prevIndex: number, prevTerm: number, term: number): fc.Arbitrary<Record<string, unknown>[]> {
  return fc
    .array(
      fc.tuple(fc.constantFrom('normal', 'config', 'noop'), fc.integer({ min: prevTerm, max: Math.max(prevTerm, term) }), bytesArbitrary, membership(context)),
      { minLength: 1, maxLength: 5 },
    )
    .map((items) => {
      let floor = prevTerm;
      return items.map(([kind, entryTerm, data, members], position) => {
        floor = Math.max(floor, entryTerm);
        const entry: Record<string, unknown> = { index: prevIndex + 1 + position, term: floor, kind, data: kind === 'noop' ? new Uint8Array(0) : data };
        if (kind === 'config') entry.membership = members;
        return entry;
      });
    });
}

/** A Raft message that passes the node's shape check and keeps to the rules at the top. */
function wellShapedRaft(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  const base = fc.record({
    from: idArbitrary(context),
    to: fc.oneof(
      { weight: 4, arbitrary: fc.constant(context.memberIds[target]!) },
      { weight: 1, arbitrary: fc.constantFrom(...context.memberIds, context.selfId) },
    ),
    term: termArbitrary(context),
  });
  const context256 = fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }), fc.constant('r'.repeat(256)));
  const safeCommit = fc.nat({ max: context.commit });
  return fc.constantFrom(...RAFT_TYPES).chain((type) =>
    base.chain((common): fc.Arbitrary<Record<string, unknown>> => {
      const term = common.term;
      switch (type) {
        case 'append':
          return fc.boolean().chain((withEntries): fc.Arbitrary<Record<string, unknown>> => {
            if (!withEntries) {
              return fc
                .record({ prevIndex: indexArbitrary(context), prevTerm: fc.nat({ max: term }), commit: safeCommit, entries: fc.constant([] as unknown[]) })
                .map((fields) => ({ ...common, type, ...fields }));
            }
            return fc
              .tuple(fc.integer({ min: context.lastIndex + 1000, max: context.lastIndex + 1_000_000 }), fc.nat({ max: term }))
              .chain(([prevIndex, prevTerm]) =>
                entriesAfter(context, prevIndex, prevTerm, term).map((entries) => ({
                  ...common,
                  type,
                  prevIndex,
                  prevTerm,
                  entries,
                  commit: Math.min(context.commit, prevIndex),
                })),
              );
          });
        case 'appendResponse':
          return fc
            .record({
              index: fc.nat({ max: context.commit }),
              reject: fc.boolean(),
              rejectHint: indexArbitrary(context),
              rejectTerm: fc.nat({ max: term }),
              recovering: fc.constantFrom(undefined, true, false),
            })
            .map((fields) => ({ ...common, type, ...fields }));
        case 'heartbeat':
          return fc.record({ commit: safeCommit, readContext: context256 }).map((fields) => ({ ...common, type, ...fields }));
        case 'heartbeatResponse':
          return fc.record({ readContext: context256, recovering: fc.constantFrom(undefined, true, false) }).map((fields) => ({ ...common, type, ...fields }));
        case 'vote':
        case 'preVote':
          return fc
            .record({ lastIndex: indexArbitrary(context), lastTerm: fc.nat({ max: term }), transfer: fc.boolean() })
            .map((fields) => ({ ...common, type, ...fields }));
        case 'voteResponse':
        case 'preVoteResponse':
          return fc.constant({ ...common, type, reject: context.keyed ? true : false });
        case 'timeoutNow':
          return fc.constant({ ...common, type });
        case 'readIndex':
          return context256.filter((text) => text !== '').map((readContext) => ({ ...common, type, readContext }));
        case 'readIndexResponse':
          return fc
            .record({
              readContext: fc.string({ minLength: 1, maxLength: 20 }),
              index: indexArbitrary(context),
              reject: fc.boolean(),
              refusal: fc.constantFrom('NOT_LEADER', 'READ_DROPPED'),
            })
            .map((fields) => ({ ...common, type, ...fields }));
      }
    }),
  );
}

/** A breakage that turns the message into an append with what `build` makes of the message's own term. */
function appendAfter(build: (term: number) => { prevIndex: number; prevTerm: number; entries: unknown[] }) {
  return fc.constant((message: Record<string, unknown>) => ({ ...message, type: 'append', commit: 0, ...build(message.term as number) }));
}

/** A Raft message broken in one place: a field wrong or gone, entries out of line, a type unknown. */
function malformedRaft(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  const breakage = fc.oneof(
    fc.tuple(fc.constantFrom(...RAFT_KEYS), hostileValue).map(([key, value]) => (message: Record<string, unknown>) => ({ ...message, [key]: value })),
    fc.constantFrom(...RAFT_KEYS).map((key) => (message: Record<string, unknown>) => {
      const { [key]: _gone, ...rest } = message;
      return rest;
    }),
    fc.constantFrom('snapshot', 'Append', 'unknown', '', 'hello').map((type) => (message: Record<string, unknown>) => ({ ...message, type })),
    fc.constantFrom(-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '5').map((term) => (message: Record<string, unknown>) => ({ ...message, term })),
    appendAfter((_term) => ({ prevIndex: 3, prevTerm: 1, entries: [{ index: 5, term: 1, kind: 'normal', data: new Uint8Array(1) }] })),
    appendAfter((term) => ({ prevIndex: 3, prevTerm: 1, entries: [{ index: 4, term: term + 5, kind: 'normal', data: new Uint8Array(1) }] })),
    appendAfter((_term) => ({ prevIndex: 3, prevTerm: 1, entries: [{ index: 4, term: 1, kind: 'config', data: new Uint8Array(0) }] })),
    appendAfter((_term) => ({
      prevIndex: 3,
      prevTerm: 1,
      entries: [{ index: 4, term: 1, kind: 'config', data: new Uint8Array(0), membership: { voters: ['a', 'a'], learners: [] } }],
    })),
    appendAfter((_term) => ({ prevIndex: 3, prevTerm: 1, entries: [{ index: 4, term: 1, kind: 'normal', data: 'text' }] })),
    appendAfter((_term) => ({
      prevIndex: 0,
      prevTerm: 0,
      entries: Array.from({ length: 4097 }, (_, index) => ({ index: index + 1, term: 0, kind: 'noop', data: new Uint8Array(0) })),
    })),
    appendAfter((term) => ({ prevIndex: 5, prevTerm: term + 1, entries: [] })),
    fc.constant((message: Record<string, unknown>) => ({ ...message, type: 'readIndex', readContext: '' })),
    fc.constant((message: Record<string, unknown>) => ({ ...message, readContext: 'c'.repeat(257) })),
  );
  return fc.tuple(wellShapedRaft(context, target), breakage).map(([message, broken]) => broken(message));
}

/** A gossip claim; about real members only alive or suspect, at small incarnations (see the top). */
function claim(context: PeerContext): fc.Arbitrary<unknown> {
  const anyAddress = fc.oneof(
    fc.constantFrom(...context.deadAddresses),
    fc.constantFrom(...context.memberAddresses),
    fc.constantFrom('127.0.0.1:99999', '', 'evil', '[::1]:0', 'a'.repeat(300)),
  );
  // About the fuzzing peer itself, the address it linked from: gossip holding it alive elsewhere
  // would (rightly) refuse its next link, and the rest of the batch would fuzz nothing.
  const addressOf = (id: string) => (id === context.selfId ? fc.constant(context.deadAddresses[0]!) : anyAddress);
  // Ids at the 256-character limit of Raft messages and one past it: gossip must hold a member to
  // the same limits as the Raft configuration it may be added to.
  const about = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(context.selfId, 'fz-ghost-0', 'fz-ghost-1', 'fz-ghost-2') },
    { weight: 2, arbitrary: fc.constantFrom(...context.memberIds) },
    { weight: 3, arbitrary: fc.constantFrom('g'.repeat(256), 'g'.repeat(257)) },
  );
  const wellFormed = about.chain((id) =>
    fc.record({
      id: fc.constant(id),
      address: addressOf(id),
      incarnation: context.memberIds.includes(id) ? fc.nat({ max: 20 }) : fc.oneof(fc.nat({ max: 50 }), fc.constantFrom(2 ** 53 - 2, 2 ** 31)),
      state: context.memberIds.includes(id) ? fc.constantFrom('alive', 'suspect') : fc.constantFrom('alive', 'suspect', 'dead', 'left'),
      by: fc.oneof(fc.constant(context.selfId), fc.constant(id), fc.constantFrom(...context.memberIds)),
    }),
  );
  return fc.oneof(
    { weight: 4, arbitrary: wellFormed },
    {
      weight: 1,
      arbitrary: fc
        .tuple(wellFormed, fc.constantFrom('id', 'address', 'incarnation', 'state', 'by'), hostileValue)
        .map(([item, key, value]) => ({ ...(item as object), [key]: value })),
    },
    { weight: 1, arbitrary: hostileValue },
  );
}

function gossipMessage(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  const claims = fc.oneof(
    { weight: 6, arbitrary: fc.array(claim(context), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant(Array.from({ length: 4097 }, () => ({}))) },
    { weight: 1, arbitrary: hostileValue },
  );
  return fc.record(
    {
      type: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('ping', 'ack', 'pingReq', 'sync', 'syncReply') },
        { weight: 1, arbitrary: fc.constantFrom('suspect', 'PING', '', 'join') },
      ),
      from: idArbitrary(context),
      to: fc.oneof(fc.constant(context.memberIds[target]!), fc.constantFrom(...context.memberIds), hostileString),
      updates: claims,
      probe: fc.oneof({ weight: 4, arbitrary: fc.nat() }, { weight: 1, arbitrary: hostileValue }),
      target: fc.oneof(fc.constantFrom(...context.memberIds, context.selfId, 'fz-ghost-0'), hostileString),
      targetAddress: fc.oneof(fc.constantFrom(...context.deadAddresses, ...context.memberAddresses), hostileString),
      state: claims,
    },
    { requiredKeys: ['type', 'from', 'to', 'updates'] },
  );
}

function snapshotHeaderMessage(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    type: fc.constant('snapshot'),
    from: idArbitrary(context),
    to: fc.constant(context.memberIds[target]!),
    term: termArbitrary(context),
    snapshot: fc.record({ meta: fc.record({ index: indexArbitrary(context), term: fc.nat({ max: context.term + 3 }), membership: membership(context) }) }),
  });
}

function snapshotChunk(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  const header = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.record({
        message: snapshotHeaderMessage(context, target),
        bytes: fc.oneof(fc.nat({ max: 5000 }), fc.constantFrom(2 ** 31, 2 ** 31 + 1, 2 ** 40, 2 ** 53 - 1)),
        digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ message: hostileValue, bytes: hostileValue, digest: fc.uint8Array({ maxLength: 40 }) }, { requiredKeys: [] }) },
  );
  return fc
    .record({
      t: fc.constant('snapshotChunk'),
      transfer: fc.oneof(fc.nat({ max: 4 }), fc.constantFrom(2 ** 53 - 1)),
      seq: fc.oneof(fc.nat({ max: 4 }), fc.constantFrom(2 ** 31)),
      data: fc.uint8Array({ maxLength: 2048 }),
      header,
    })
    .map((frame) => {
      if (frame.header === undefined) {
        const { header: _none, ...rest } = frame;
        return rest;
      }
      return frame;
    });
}

/** A whole snapshot in one chunk, its digest right: only at a stale term, which Raft ignores. */
function staleCompleteSnapshot(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.uint8Array({ maxLength: 512 }), fc.nat({ max: 1000 }), snapshotHeaderMessage(context, target)).map(([data, transfer, message]) => ({
    t: 'snapshotChunk',
    transfer,
    seq: 0,
    data,
    header: {
      message: { ...message, term: Math.max(0, context.term - 1) },
      bytes: data.length,
      digest: new Uint8Array(createHash('sha256').update(data).digest()),
    },
  }));
}

function forwardFrame(): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    t: fc.constant('forward'),
    requestId: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 2 ** 31 }) }, { weight: 1, arbitrary: hostileValue }),
    request: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .constantFrom('enqueue', 'receive', 'ack', 'nack', 'extend', 'configure', 'purge', 'delete', 'getQueue', 'cluster', 'subscribe')
          .chain((op) => requestFields(op).map((fields) => ({ ...fields, op }))),
      },
      { weight: 1, arbitrary: clientFrame },
      { weight: 1, arbitrary: hostileValue },
    ),
  });
}

function forwardReplyFrame(): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      t: fc.constant('forwardReply'),
      requestId: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 10_000 }) }, { weight: 1, arbitrary: hostileValue }),
      ok: fc.oneof(fc.boolean(), hostileValue),
      result: hostileValue,
      error: fc.oneof(
        fc.record({
          code: fc.oneof(fc.constantFrom(...ERROR_CODES), hostileString),
          message: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('m'.repeat(5000))),
          retryAfterMs: fc.oneof(fc.constant(undefined), fc.nat(), hostileValue),
        }),
        hostileValue,
      ),
    },
    { requiredKeys: ['t', 'requestId', 'ok'] },
  );
}

function handshakeFrame(context: PeerContext): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.constant({ t: 'hello', v: PEER_PROTOCOL_VERSION, id: context.selfId, address: context.deadAddresses[0]!, founders: null, nonce: new Uint8Array(32) }),
    fc.constant({ t: 'helloAck', v: PEER_PROTOCOL_VERSION, id: context.selfId, address: context.deadAddresses[0]!, founders: null }),
    fc.constant({ t: 'auth', proof: new Uint8Array(32) }),
    fc.record({
      t: fc.constantFrom('hello', 'helloAck'),
      v: fc.oneof(fc.constant(PEER_PROTOCOL_VERSION), hostileValue),
      id: fc.oneof(fc.constantFrom(...context.memberIds), hostileString),
      address: fc.oneof(fc.constantFrom('127.0.0.1:99999', 'a:b', '[::1]:1'), hostileString),
      founders: fc.oneof(fc.constant(null), hostileValue),
      release: fc.oneof(
        fc.constant(undefined),
        fc.record({
          protocolMax: fc.oneof(fc.constantFrom(1, 3, 4, 1_000_000, 1_000_001), hostileValue),
          clusterVersionMax: fc.oneof(fc.constantFrom(0, 1, 2, 99), hostileValue),
          version: fc.oneof(fc.constant('9.9.9'), hostileString),
        }),
        hostileValue,
      ),
    }),
  );
}

/** Any peer frame object, well-shaped or broken, for a link to node `target`. */
function peerFrame(context: PeerContext, target: number): fc.Arbitrary<Record<string, unknown>> {
  const raft = (message: fc.Arbitrary<Record<string, unknown>>) =>
    fc
      .tuple(
        message,
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.constantFrom(0, 1_700_000_000_000, 1_800_000_000_000, -1, 1e15, 2 ** 53) },
          { weight: 1, arbitrary: hostileValue },
        ),
      )
      .map(([item, clock]) => (clock === undefined ? { t: 'raft', message: item } : { t: 'raft', message: item, clock }));
  return fc.oneof(
    { weight: 6, arbitrary: raft(wellShapedRaft(context, target)) },
    { weight: 4, arbitrary: raft(malformedRaft(context, target)) },
    { weight: 4, arbitrary: gossipMessage(context, target).map((message) => ({ t: 'gossip', message })) },
    { weight: 2, arbitrary: forwardFrame() },
    { weight: 1, arbitrary: forwardReplyFrame() },
    { weight: 2, arbitrary: snapshotChunk(context, target) },
    { weight: context.keyed ? 1 : 0, arbitrary: staleCompleteSnapshot(context, target) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('snapshotAck'),
        transfer: fc.oneof(fc.nat({ max: 4 }), hostileValue),
        seq: fc.oneof(fc.nat({ max: 4 }), hostileValue),
      }),
    },
    { weight: 1, arbitrary: handshakeFrame(context) },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.oneof(fc.constantFrom('Raft', 'unknown', '', 'ping'), hostileValue), message: hostileValue }, { requiredKeys: [] }),
    },
  );
}

/**
 * Whether a frame the node will accept keeps to the rules at the top of this file (with the key),
 * or carries a sentinel term (without); frames the node refuses need no rules.
 */
export function withinRules(context: PeerContext, frame: Record<string, unknown>): boolean {
  if (frame.t === 'raft') {
    const message = frame.message as Record<string, unknown>;
    const term = message.term as number;
    if (!context.keyed) return term >= context.sentinelTerm;
    if (term > context.term + 3) return false;
    if (message.type === 'append') {
      const entries = message.entries as unknown[];
      if ((message.commit as number) > context.commit) return false;
      if (entries.length > 0 && (message.prevIndex as number) < context.lastIndex + 1000) return false;
    }
    if (message.type === 'heartbeat' && (message.commit as number) > context.commit) return false;
    if (message.type === 'appendResponse' && (message.index as number) > context.commit) return false;
    if ((message.type === 'voteResponse' || message.type === 'preVoteResponse') && message.reject === false && term >= context.term) return false;
    return true;
  }
  if (frame.t === 'gossip') {
    const message = frame.message as Record<string, unknown>;
    for (const list of [message.updates, message.state]) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const claimed = item as { id?: unknown; state?: unknown; incarnation?: unknown };
        if (typeof claimed !== 'object' || claimed === null || !context.memberIds.includes(claimed.id as string)) continue;
        if (claimed.state === 'dead' || claimed.state === 'left') return false;
        if (typeof claimed.incarnation === 'number' && claimed.incarnation > 20) return false;
      }
    }
    return true;
  }
  if (frame.t === 'snapshotChunk' && context.keyed) {
    const header = frame.header as { message?: { term?: number }; bytes?: number; digest?: Uint8Array } | undefined;
    if (header === undefined) return true;
    const data = frame.data as Uint8Array;
    const matches = header.bytes === data.length && Buffer.from(createHash('sha256').update(data).digest()).equals(Buffer.from(header.digest ?? []));
    return !matches || (header.message?.term ?? 0) < context.term;
  }
  return true;
}

/** Peer frames for node `target`: objects our codec encodes, or hostile bytes; always within the rules. */
export function peerFrameInput(context: PeerContext): fc.Arbitrary<PeerFrameInput> {
  return fc.nat({ max: context.memberIds.length - 1 }).chain((node) => {
    const frame = peerFrame(context, node);
    const asObject = fc.tuple(frame, wellShapedRaft(context, node)).map(([candidate, fallback]): PeerFrameInput => {
      const accepted = acceptedFrame(encode(candidate));
      if (accepted === undefined || withinRules(context, accepted)) return { node, frame: candidate };
      return { node, frame: { t: 'raft', message: fallback } };
    });
    const asBytes = hostileFrameBytes(frame, fc.constant(1)).map((bytes): PeerFrameInput => {
      const accepted = acceptedFrame(bytes);
      return accepted === undefined || withinRules(context, accepted) ? { node, bytes } : { node, bytes: Uint8Array.of(0xc1) };
    });
    return fc.oneof({ weight: 6, arbitrary: asObject }, { weight: 1, arbitrary: asBytes });
  });
}

/** What an accepted frame is, for tallies: `raft:vote`, `gossip:ping`, `forward`... */
export function frameKind(bytes: Uint8Array): string {
  const accepted = acceptedFrame(bytes);
  if (accepted === undefined) return 'refused';
  const message = accepted.message as { type?: string } | undefined;
  return message?.type === undefined ? String(accepted.t) : `${String(accepted.t)}:${message.type}`;
}
