import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The shared secret of a cluster (`--cluster-key-file`), and the proofs made with it in the peer
 * handshake (`peer-handshake.ts`). A proof is an HMAC-SHA256, under the key, of both nonces, both
 * ids and the role that computes it:
 * - fresh nonces on both sides: a recorded proof is worth nothing on another link (no replay);
 * - the role in the MAC: the acceptor's proof cannot be reflected back as the dialer's;
 * - both ids in the MAC: a proof binds the link to the ids both ends announced.
 * The key itself never crosses the wire.
 */
export const NONCE_BYTES = 32;
const PROOF_BYTES = 32;
const PROOF_LABEL = 'quorumq peer link v3';
/** 32 characters of a random base64 or hex string carry at least 128 bits. */
const KEY_LENGTH_MIN = 32;
const KEYS_MAX = 16;

export type HandshakeRole = 'dialer' | 'acceptor';

export interface HandshakeParties {
  readonly dialerId: string;
  readonly acceptorId: string;
  readonly dialerNonce: Uint8Array;
  readonly acceptorNonce: Uint8Array;
}

/**
 * The keys this node holds: the first is the one it proves with, every one of them is accepted
 * from peers. Rotation: add the new key second everywhere, then move it first everywhere, then
 * drop the old one; at every step every node accepts the key each of the others proves with.
 */
export class ClusterKeys {
  private constructor(private readonly keys: readonly Buffer[]) {}

  /** One key per line; blank lines and lines starting with `#` are ignored. */
  static parse(text: string, source: string): ClusterKeys {
    const keys = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (keys.length === 0) throw new Error(`cluster key file ${source} holds no key`);
    if (keys.length > KEYS_MAX) throw new Error(`cluster key file ${source} holds ${keys.length} keys; at most ${KEYS_MAX} are accepted`);
    for (const [position, key] of keys.entries()) {
      if (key.length < KEY_LENGTH_MIN) {
        throw new Error(
          `cluster key ${position + 1} in ${source} is ${key.length} characters; use at least ${KEY_LENGTH_MIN} random characters (openssl rand -base64 32)`,
        );
      }
    }
    return new ClusterKeys(keys.map((key) => Buffer.from(key, 'utf8')));
  }

  prove(role: HandshakeRole, parties: HandshakeParties): Uint8Array {
    return proofOf(this.keys[0]!, role, parties);
  }

  /** True when `proof` was made, by a peer in `role`, with any key this node holds. */
  verify(role: HandshakeRole, parties: HandshakeParties, proof: unknown): boolean {
    if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) return false;
    let matched = false;
    // Every key is tried, matched or not, so the time taken says nothing about which one matched.
    for (const key of this.keys) matched = timingSafeEqual(proofOf(key, role, parties), proof) || matched;
    return matched;
  }
}

export function freshNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

export function isNonce(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === NONCE_BYTES;
}

function proofOf(key: Buffer, role: HandshakeRole, parties: HandshakeParties): Buffer {
  const mac = createHmac('sha256', key);
  // Lengths first, so that no two different pairs of ids can be read as the same bytes.
  const dialer = Buffer.from(parties.dialerId, 'utf8');
  const acceptor = Buffer.from(parties.acceptorId, 'utf8');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(dialer.length, 0);
  lengths.writeUInt32BE(acceptor.length, 4);
  mac.update(`${PROOF_LABEL}\0${role}\0`);
  mac.update(lengths);
  mac.update(dialer);
  mac.update(acceptor);
  mac.update(parties.dialerNonce);
  mac.update(parties.acceptorNonce);
  return mac.digest();
}
