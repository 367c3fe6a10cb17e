import { assert } from '../shared/index.ts';
import { foundersConflict } from './cluster-identity.ts';
import { type ClusterKeys, freshNonce, type HandshakeParties } from './cluster-keys.ts';
import {
  type AuthFrame,
  type HelloAckFrame,
  type HelloFrame,
  PEER_PROTOCOL_VERSION,
  PEER_PROTOCOL_VERSION_MIN,
  type PeerFrame,
  type PeerIdentity,
} from './peer-frames.ts';

/**
 * The first frames of a peer link. A dialer opens the WebSocket and says `hello` with a fresh nonce;
 * the acceptor answers `helloAck` with its own nonce and its proof; the dialer checks the proof and
 * sends `auth` with its own. Each side believes the other's identity only once it has checked the
 * other's proof (see `ClusterKeys`): the dialer at `helloAck`, the acceptor at `auth`. Without a
 * cluster key the same frames flow without nonces or proofs, and each side takes the other's word.
 *
 * These classes decide; the transport moves the frames. A step answers what to send, whom the link
 * now belongs to, or why the link must close.
 */
export type HandshakeStep =
  | { readonly kind: 'send'; readonly frame: PeerFrame }
  | { readonly kind: 'sendThenAccept'; readonly frame: PeerFrame; readonly peer: PeerIdentity }
  | { readonly kind: 'accept'; readonly peer: PeerIdentity }
  | { readonly kind: 'refuse'; readonly reason: string };

/** The acceptor's side of one link, from its first frame until the link is authenticated. */
export class AcceptorHandshake {
  private awaitingAuth: { readonly peer: PeerIdentity; readonly parties: HandshakeParties } | undefined;
  private done = false;

  constructor(
    private readonly keys: ClusterKeys | undefined,
    private readonly self: PeerIdentity,
  ) {}

  /** The peer that said hello and has yet to prove it: one that hangs up now likely holds another key. */
  get unproven(): PeerIdentity | undefined {
    return this.done ? undefined : this.awaitingAuth?.peer;
  }

  onFrame(frame: PeerFrame): HandshakeStep {
    if (this.done) return { kind: 'refuse', reason: 'handshake already finished' };
    if (this.awaitingAuth === undefined) return this.onHello(frame);
    this.done = true;
    const { peer, parties } = this.awaitingAuth;
    // Only a keyed acceptor waits for the dialer's proof (see `onHello`).
    assert(this.keys !== undefined, 'an acceptor without a key never waits for auth');
    if (frame.t !== 'auth') return { kind: 'refuse', reason: `expected auth, got ${frame.t}` };
    if (!this.keys.verify('dialer', parties, frame.proof))
      return { kind: 'refuse', reason: `peer ${peer.id} at ${peer.address} failed authentication: its cluster key differs` };
    const foreign = foundersConflict(this.self, peer);
    if (foreign !== undefined) return { kind: 'refuse', reason: foreign };
    return { kind: 'accept', peer };
  }

  private onHello(frame: PeerFrame): HandshakeStep {
    assert(!this.done && this.awaitingAuth === undefined, 'hello is the first step of an acceptor handshake');
    if (frame.t !== 'hello') {
      this.done = true;
      return { kind: 'refuse', reason: `expected hello, got ${frame.t}` };
    }
    const peer = identityOf(frame);
    if (peer.id === this.self.id) {
      this.done = true;
      return { kind: 'refuse', reason: `peer at ${peer.address} claims this node's own id` };
    }
    const mismatch = protocolMismatch(frame);
    if (mismatch !== undefined) {
      this.done = true;
      return { kind: 'refuse', reason: mismatch };
    }
    const v = linkVersion(frame);
    if (this.keys === undefined) {
      this.done = true;
      // Without a key the peer's word is all there is: its founders are checked at once.
      const foreign = foundersConflict(this.self, peer);
      if (foreign !== undefined) return { kind: 'refuse', reason: foreign };
      return { kind: 'sendThenAccept', frame: { t: 'helloAck', v, ...this.self }, peer };
    }
    if (frame.nonce === undefined) {
      this.done = true;
      return { kind: 'refuse', reason: `peer ${peer.id} at ${peer.address} offered no cluster key proof (it runs without --cluster-key-file)` };
    }
    const parties: HandshakeParties = { dialerId: peer.id, acceptorId: this.self.id, dialerNonce: frame.nonce, acceptorNonce: freshNonce() };
    this.awaitingAuth = { peer, parties };
    const ack: HelloAckFrame = {
      t: 'helloAck',
      v,
      ...this.self,
      nonce: parties.acceptorNonce,
      proof: this.keys.prove('acceptor', parties),
    };
    return { kind: 'send', frame: ack };
  }
}

/** The dialer's side of one connection attempt: a new one for every reconnect, so nonces are never reused. */
export class DialerHandshake {
  private readonly nonce: Uint8Array | undefined;
  /** The hello went out: its nonce is spent, and an answer may come. */
  private helloSent = false;
  private done = false;

  constructor(
    private readonly keys: ClusterKeys | undefined,
    private readonly self: PeerIdentity,
  ) {
    this.nonce = keys === undefined ? undefined : freshNonce();
  }

  hello(): HelloFrame {
    // A dialer's nonce serves one connection: a second hello would offer it again.
    assert(!this.helloSent, 'a dialer handshake says hello once');
    this.helloSent = true;
    // The lowest version this node speaks: a release from before the range accepts exactly it.
    return this.nonce === undefined
      ? { t: 'hello', v: PEER_PROTOCOL_VERSION_MIN, ...this.self }
      : { t: 'hello', v: PEER_PROTOCOL_VERSION_MIN, ...this.self, nonce: this.nonce };
  }

  onFrame(frame: PeerFrame): HandshakeStep {
    assert(this.helloSent, 'a dialer hears an answer only to the hello it sent');
    if (this.done) return { kind: 'refuse', reason: 'handshake already finished' };
    this.done = true;
    if (frame.t !== 'helloAck') return { kind: 'refuse', reason: `expected helloAck, got ${frame.t}` };
    const mismatch = protocolMismatch(frame);
    if (mismatch !== undefined) return { kind: 'refuse', reason: mismatch };
    const peer = identityOf(frame);
    // Checked once the peer is believed: an unproven peer's founders say nothing.
    const foreign = foundersConflict(this.self, peer);
    if (this.keys === undefined || this.nonce === undefined) return foreign === undefined ? { kind: 'accept', peer } : { kind: 'refuse', reason: foreign };
    if (frame.nonce === undefined || frame.proof === undefined) {
      return { kind: 'refuse', reason: `peer ${peer.id} at ${peer.address} offered no cluster key proof (it runs without --cluster-key-file)` };
    }
    const parties: HandshakeParties = { dialerId: this.self.id, acceptorId: peer.id, dialerNonce: this.nonce, acceptorNonce: frame.nonce };
    if (!this.keys.verify('acceptor', parties, frame.proof))
      return { kind: 'refuse', reason: `peer ${peer.id} at ${peer.address} failed authentication: its cluster key differs` };
    if (foreign !== undefined) return { kind: 'refuse', reason: foreign };
    const auth: AuthFrame = { t: 'auth', proof: this.keys.prove('dialer', parties) };
    return { kind: 'sendThenAccept', frame: auth, peer };
  }
}

function identityOf(frame: HelloFrame | HelloAckFrame): PeerIdentity {
  const identity: PeerIdentity = { id: frame.id, address: frame.address, founders: frame.founders ?? null };
  const withState = frame.holdsState === undefined ? identity : { ...identity, holdsState: frame.holdsState };
  return frame.release === undefined ? withState : { ...withState, release: frame.release };
}

/** The peer protocol versions a hello or helloAck offers: from `v` to its release's highest (only `v` before the range). */
function offeredRange(frame: HelloFrame | HelloAckFrame): { low: number; high: number } {
  return { low: frame.v, high: Math.max(frame.v, frame.release?.protocolMax ?? frame.v) };
}

/** Why this node and the peer share no protocol version, or undefined when they share one. */
function protocolMismatch(frame: HelloFrame | HelloAckFrame): string | undefined {
  const { low, high } = offeredRange(frame);
  if (low <= PEER_PROTOCOL_VERSION && high >= PEER_PROTOCOL_VERSION_MIN) return undefined;
  return (
    `peer ${frame.id} at ${frame.address} speaks peer protocol ${low}..${high} (release ${frame.release?.version ?? 'before 0.3'}), ` +
    `this node ${PEER_PROTOCOL_VERSION_MIN}..${PEER_PROTOCOL_VERSION}: upgrade one release at a time (see docs/operations.md, Upgrades)`
  );
}

/** The version a link speaks: the highest both ends know. */
function linkVersion(frame: HelloFrame): number {
  return Math.min(PEER_PROTOCOL_VERSION, offeredRange(frame).high);
}
