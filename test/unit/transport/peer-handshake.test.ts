import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../../src/transport/cluster-keys.ts';
import { PEER_PROTOCOL_VERSION, PEER_PROTOCOL_VERSION_MIN, type PeerFrame, type PeerIdentity } from '../../../src/transport/peer-frames.ts';
import { AcceptorHandshake, DialerHandshake, type HandshakeStep } from '../../../src/transport/peer-handshake.ts';

const KEY_A = 'a'.repeat(16) + 'first-cluster-key-000';
const KEY_B = 'b'.repeat(16) + 'second-cluster-key-00';
const keys = (text: string) => ClusterKeys.parse(text, 'test');
const dialerSelf: PeerIdentity = { id: 'dialer', address: '127.0.0.1:7001', founders: null };
const acceptorSelf: PeerIdentity = { id: 'acceptor', address: '127.0.0.1:7002', founders: ['acceptor'] };

function frameOf(step: HandshakeStep): PeerFrame {
  if (step.kind !== 'send' && step.kind !== 'sendThenAccept') throw new Error(`expected a frame, got ${step.kind}: ${JSON.stringify(step)}`);
  return step.frame;
}

/** Runs a whole handshake; what each side decided. */
function handshake(dialerKeys: ClusterKeys | undefined, acceptorKeys: ClusterKeys | undefined): { dialer: HandshakeStep; acceptor: HandshakeStep | undefined } {
  const dialer = new DialerHandshake(dialerKeys, dialerSelf);
  const acceptor = new AcceptorHandshake(acceptorKeys, acceptorSelf);
  const ack = acceptor.onFrame(dialer.hello());
  if (ack.kind === 'refuse') return { dialer: ack, acceptor: ack };
  const dialerStep = dialer.onFrame(frameOf(ack));
  if (ack.kind === 'sendThenAccept') return { dialer: dialerStep, acceptor: ack };
  if (dialerStep.kind !== 'sendThenAccept') return { dialer: dialerStep, acceptor: undefined };
  return { dialer: dialerStep, acceptor: acceptor.onFrame(dialerStep.frame) };
}

// Goal: peers believe each other only on proof of a shared key, each proof fits one link only, and
// rotation works through a key list.
describe('peer handshake', () => {
  it('authenticates both sides when they share a key, each learning the other', () => {
    const { dialer, acceptor } = handshake(keys(KEY_A), keys(KEY_A));
    expect(dialer).toMatchObject({ kind: 'sendThenAccept', peer: { id: 'acceptor', address: '127.0.0.1:7002' } });
    expect(acceptor).toMatchObject({ kind: 'accept', peer: { id: 'dialer', address: '127.0.0.1:7001' } });
  });

  it('refuses on both sides when the keys differ', () => {
    expect(handshake(keys(KEY_A), keys(KEY_B)).dialer).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/cluster key differs/) });
    // A dialer that lies past the failed check gets refused by the acceptor at its proof.
    const dialer = new DialerHandshake(keys(KEY_B), dialerSelf);
    const acceptor = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
    frameOf(acceptor.onFrame(dialer.hello()));
    expect(acceptor.onFrame({ t: 'auth', proof: new Uint8Array(32) })).toMatchObject({ kind: 'refuse' });
  });

  it('refuses a keyless peer at a keyed node, and a keyed peer at a keyless node', () => {
    expect(handshake(undefined, keys(KEY_A)).acceptor).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/no cluster key proof/) });
    expect(handshake(keys(KEY_A), undefined).dialer).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/no cluster key proof/) });
  });

  it('refuses, on either side and with or without a key, a peer whose founders name another cluster', () => {
    for (const keyed of [undefined, keys(KEY_A)]) {
      const refounded: PeerIdentity = { ...dialerSelf, founders: ['dialer', 'refounded.0123456789abcdef'] };
      const acceptor = new AcceptorHandshake(keyed, acceptorSelf);
      const dialer = new DialerHandshake(keyed, refounded);
      const ack = acceptor.onFrame(dialer.hello());
      if (keyed === undefined) expect(ack).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/belongs to another cluster/) });
      else {
        expect(dialer.onFrame(frameOf(ack))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/belongs to another cluster/) });
        // A dialer of the other cluster that went on anyway is refused at its proof.
        const auth = new DialerHandshake(keyed, dialerSelf);
        const second = new AcceptorHandshake(keyed, { ...acceptorSelf, founders: ['other'] });
        const step = auth.onFrame(frameOf(second.onFrame({ ...auth.hello(), founders: ['dialer'] })));
        expect(step.kind).toBe('sendThenAccept');
        expect(second.onFrame(frameOf(step))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/belongs to another cluster/) });
      }
    }
    // The same founders in another order are the same cluster; a node with none links to anyone.
    const same = new AcceptorHandshake(undefined, { ...acceptorSelf, founders: ['a', 'b'] });
    expect(same.onFrame({ ...new DialerHandshake(undefined, { ...dialerSelf, founders: ['b', 'a'] }).hello() }).kind).toBe('sendThenAccept');
  });

  it('keeps out of a refounded cluster, on both sides, a peer that announces no founders but holds state or does not say', () => {
    const refounded: PeerIdentity = { id: 'survivor', address: '127.0.0.1:7003', founders: ['survivor', 'refounded.0123456789abcdef'], holdsState: true };
    const ordinary: PeerIdentity = { id: 'member', address: '127.0.0.1:7004', founders: ['member', 'b', 'c'], holdsState: true };
    const staleMember: PeerIdentity = { id: 'stale', address: '127.0.0.1:7005', founders: null, holdsState: true };
    // A release from before `holdsState` says nothing: taken as holding state.
    const { holdsState: _unsaid, ...olderRelease } = staleMember;
    const blank: PeerIdentity = { ...staleMember, holdsState: false };
    for (const keyed of [undefined, keys(KEY_A)]) {
      const outcome = (dialerSelf: PeerIdentity, acceptorSelf: PeerIdentity): { dialer: HandshakeStep; acceptor: HandshakeStep | undefined } => {
        const dialer = new DialerHandshake(keyed, dialerSelf);
        const acceptor = new AcceptorHandshake(keyed, acceptorSelf);
        const ack = acceptor.onFrame(dialer.hello());
        if (ack.kind === 'refuse') return { dialer: ack, acceptor: ack };
        const step = dialer.onFrame(frameOf(ack));
        if (ack.kind === 'sendThenAccept' || step.kind !== 'sendThenAccept') return { dialer: step, acceptor: ack };
        return { dialer: step, acceptor: acceptor.onFrame(step.frame) };
      };
      for (const stale of [staleMember, olderRelease]) {
        // The refounded node accepts the stale one: refused as the acceptor.
        const asAcceptor = outcome(stale, refounded).acceptor;
        expect(asAcceptor).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/announces no founders but/) });
        // The refounded node dials the stale one: refused as the dialer.
        expect(outcome(refounded, stale).dialer).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/announces no founders but/) });
        // Without a refounding mark nothing changes: an older release keeps linking during an upgrade.
        expect(outcome(stale, ordinary).acceptor?.kind).toMatch(/accept/i);
        expect(outcome(ordinary, stale).dialer.kind).toMatch(/accept/i);
      }
      // A blank node joins a refounded cluster, from either side.
      expect(outcome(blank, refounded).acceptor?.kind).toMatch(/accept/i);
      expect(outcome(refounded, blank).dialer.kind).toMatch(/accept/i);
    }
  });

  it('takes the word of peers when neither has a key', () => {
    const { dialer, acceptor } = handshake(undefined, undefined);
    expect(dialer.kind).toBe('accept');
    expect(acceptor?.kind).toBe('sendThenAccept');
  });

  it('rotates in three steps (add the new key second, move it first, drop the old), every pair meeting at each', () => {
    const before = keys(KEY_A);
    const added = keys(`${KEY_A}\n${KEY_B}`);
    const moved = keys(`${KEY_B}\n${KEY_A}`);
    const after = keys(KEY_B);
    const steps = [
      [before, added],
      [added, moved],
      [moved, after],
    ];
    for (const nodes of steps) {
      for (const dialer of nodes) for (const acceptor of nodes) expect(handshake(dialer!, acceptor!).acceptor?.kind).toBe('accept');
    }
    // The last step of a rotation: a node without the old key no longer meets one proving with it.
    expect(handshake(keys(KEY_A), keys(KEY_B)).dialer.kind).toBe('refuse');
  });

  it("refuses a peer that claims the acceptor's own id, and anything but hello first", () => {
    const acceptor = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
    expect(acceptor.onFrame({ t: 'hello', v: 3, id: 'acceptor', address: '127.0.0.1:9', founders: null, nonce: new Uint8Array(32) }).kind).toBe('refuse');
    expect(new AcceptorHandshake(keys(KEY_A), acceptorSelf).onFrame({ t: 'gossip', message: {} } as unknown as PeerFrame).kind).toBe('refuse');
  });

  it('never accepts a proof made for another link: replayed, reflected, or for other ids', () => {
    // Record a good handshake.
    const dialer = new DialerHandshake(keys(KEY_A), dialerSelf);
    const acceptor = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
    const ack = frameOf(acceptor.onFrame(dialer.hello()));
    const auth = frameOf(dialer.onFrame(ack));
    // Replay the dialer's proof on a fresh link: the acceptor's new nonce makes it worthless.
    const replayedTo = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
    frameOf(replayedTo.onFrame(new DialerHandshake(keys(KEY_A), dialerSelf).hello()));
    expect(replayedTo.onFrame(auth).kind).toBe('refuse');
    // Reflect the acceptor's own proof back as the dialer's.
    const reflectedTo = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
    const hello = new DialerHandshake(keys(KEY_A), dialerSelf).hello();
    const ownAck = frameOf(reflectedTo.onFrame(hello));
    expect(reflectedTo.onFrame({ t: 'auth', proof: (ownAck as { proof: Uint8Array }).proof })).toMatchObject({ kind: 'refuse' });
  });

  it('refuses every random proof (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (proof) => {
        const acceptor = new AcceptorHandshake(keys(KEY_A), acceptorSelf);
        frameOf(acceptor.onFrame(new DialerHandshake(keys(KEY_A), dialerSelf).hello()));
        return acceptor.onFrame({ t: 'auth', proof }).kind === 'refuse';
      }),
      { numRuns: 300 },
    );
  });

  it('refuses short or missing keys with a message that says how to make one', () => {
    expect(() => ClusterKeys.parse('short\n', 'k.txt')).toThrow(/at least 32 random characters/);
    expect(() => ClusterKeys.parse('# only a comment\n\n', 'k.txt')).toThrow(/holds no key/);
  });

  describe('protocol versions', () => {
    const release = (protocolMax: number) => ({ protocolMax, clusterVersionMax: 2, version: 'test' });

    it('speaks to a release from before the range (no release said, hello version 3) at version 3, and learns that it said nothing', () => {
      const acceptor = new AcceptorHandshake(undefined, { ...acceptorSelf, release: release(PEER_PROTOCOL_VERSION) });
      const step = acceptor.onFrame({ t: 'hello', v: 3, ...dialerSelf });
      expect(step).toMatchObject({ kind: 'sendThenAccept', frame: { t: 'helloAck', v: 3 }, peer: { id: 'dialer' } });
      expect((step as { peer: PeerIdentity }).peer.release).toBeUndefined();
    });

    it('says hello with its lowest version and its release, and the link speaks the highest version both know', () => {
      const dialer = new DialerHandshake(undefined, { ...dialerSelf, release: release(PEER_PROTOCOL_VERSION + 1) });
      const hello = dialer.hello();
      expect(hello).toMatchObject({ v: PEER_PROTOCOL_VERSION_MIN, release: release(PEER_PROTOCOL_VERSION + 1) });
      const acceptor = new AcceptorHandshake(undefined, acceptorSelf);
      expect(acceptor.onFrame(hello)).toMatchObject({ kind: 'sendThenAccept', frame: { v: PEER_PROTOCOL_VERSION } });
    });

    it('refuses, on either side and saying both ranges, a peer whose versions do not meet its own', () => {
      const acceptor = new AcceptorHandshake(undefined, acceptorSelf);
      const newer = { t: 'hello' as const, v: PEER_PROTOCOL_VERSION + 1, ...dialerSelf, release: release(PEER_PROTOCOL_VERSION + 2) };
      expect(acceptor.onFrame(newer)).toMatchObject({
        kind: 'refuse',
        reason: expect.stringMatching(/speaks peer protocol \d+\.\.\d+ .*this node \d+\.\.\d+/),
      });
      const dialer = new DialerHandshake(undefined, dialerSelf);
      dialer.hello();
      const older = { t: 'helloAck' as const, v: PEER_PROTOCOL_VERSION_MIN - 1, ...acceptorSelf };
      expect(dialer.onFrame(older)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/speaks peer protocol/) });
    });
  });
});
