import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { PEER_PROTOCOL_VERSION } from '../../src/transport/peer-frames.ts';
import { RawPeer } from '../support/raw-peer.ts';
import { acceptedFrame, frameKind, type PeerContext, type PeerFrameInput, peerFrameBytes, peerFrameInput } from './peer-fuzz.ts';

/** Links without the cluster key, or with a wrong one: whatever they send, nothing may land. */
/** How a stranger without the key tries its luck. */
export type StrangerMode = 'openOnly' | 'helloNoKey' | 'helloWrongKey' | 'helloNonceNoAuth' | 'dialNoKey' | 'dialWrongKey';

export interface StrangerInput {
  readonly node: number;
  readonly mode: StrangerMode;
  readonly claimedId: string;
  readonly claimedAddress: string;
  readonly frames: readonly PeerFrameInput[];
}

/**
 * Canaries a stranger slips in among its frames: a forward that would create a queue, a gossip
 * claim that would add a member, a vote that would raise the term past the sentinel.
 */
export function canaryFrames(context: PeerContext, node: number, claimedId: string, canaryQueue: string, canaryMember: string): Record<string, unknown>[] {
  return [
    { t: 'forward', requestId: 7, request: { op: 'enqueue', queue: canaryQueue, body: 'canary' } },
    {
      t: 'gossip',
      message: {
        type: 'sync',
        from: claimedId,
        to: context.memberIds[node]!,
        updates: [],
        state: [{ id: canaryMember, address: context.deadAddresses[0]!, incarnation: 1, state: 'alive', by: canaryMember }],
      },
    },
    {
      t: 'raft',
      message: {
        type: 'vote',
        from: claimedId,
        to: context.memberIds[node]!,
        term: context.sentinelTerm,
        lastIndex: 2 ** 40,
        lastTerm: context.sentinelTerm,
        transfer: true,
      },
    },
  ];
}

export function strangerInput(context: PeerContext, canaryQueue: string, canaryMember: string): fc.Arbitrary<StrangerInput> {
  return fc.nat({ max: context.memberIds.length - 1 }).chain((node) =>
    fc
      .record({
        node: fc.constant(node),
        mode: fc.constantFrom<StrangerMode>('openOnly', 'helloNoKey', 'helloWrongKey', 'helloNonceNoAuth', 'dialNoKey', 'dialWrongKey'),
        claimedId: fc.oneof({ weight: 3, arbitrary: fc.constant(context.selfId) }, { weight: 2, arbitrary: fc.constantFrom(...context.memberIds) }),
        claimedAddress: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...context.deadAddresses) },
          { weight: 1, arbitrary: fc.constantFrom(...context.memberAddresses) },
        ),
        fuzzed: fc.array(
          peerFrameInput(context).map((input) => ({ ...input, node })),
          { minLength: 1, maxLength: 6 },
        ),
        canary: fc.nat({ max: 2 }),
        at: fc.nat(),
      })
      .map(({ fuzzed, canary, at, ...rest }) => {
        const frames: PeerFrameInput[] = [...fuzzed];
        frames.splice(at % (frames.length + 1), 0, { node, frame: canaryFrames(context, node, rest.claimedId, canaryQueue, canaryMember)[canary]! });
        return { ...rest, frames };
      }),
  );
}

/**
 * Runs one stranger's attempt: opens a peer link to `address`, says what its mode says, pipelines
 * its frames, and waits for the node to close the link. Returns how many frames it wrote while
 * the link was open, and whether the node closed it in time.
 */
export async function runStranger(
  address: string,
  input: StrangerInput,
  closeWithinMs: number,
): Promise<{ sent: number; closed: boolean; code: number | undefined }> {
  const wrongKey = randomBytes(32).toString('base64');
  let peer: RawPeer;
  try {
    if (input.mode === 'dialNoKey' || input.mode === 'dialWrongKey') {
      const dialed = await RawPeer.dial(address, {
        id: input.claimedId,
        address: input.claimedAddress,
        ...(input.mode === 'dialWrongKey' ? { key: wrongKey } : {}),
      });
      peer = dialed.peer;
    } else {
      peer = await RawPeer.open(address);
      const hello = { t: 'hello', v: PEER_PROTOCOL_VERSION, id: input.claimedId, address: input.claimedAddress, founders: null };
      if (input.mode === 'helloNoKey') peer.send(hello);
      if (input.mode === 'helloWrongKey' || input.mode === 'helloNonceNoAuth') peer.send({ ...hello, nonce: randomBytes(32) });
      if (input.mode === 'helloWrongKey') peer.send({ t: 'auth', proof: randomBytes(32) });
    }
  } catch {
    // The node refused the upgrade itself (a limit): nothing was sent, and nothing can land.
    return { sent: 0, closed: true, code: undefined };
  }
  let sent = 0;
  for (const frame of input.frames) {
    if (!peer.isOpen) break;
    peer.sendBytes(peerFrameBytes(frame));
    sent++;
  }
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([peer.closed, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), closeWithinMs)))]);
  clearTimeout(timer);
  if (outcome === undefined) peer.close();
  return { sent, closed: outcome !== undefined, code: outcome?.code };
}
