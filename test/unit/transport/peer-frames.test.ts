import { describe, expect, it } from 'vitest';
import { isPeerAddress } from '../../../src/transport/peer-address.ts';
import { isPeerFrame, PEER_PROTOCOL_VERSION } from '../../../src/transport/peer-frames.ts';

const hello = (overrides: Record<string, unknown> = {}) => ({
  t: 'hello',
  v: PEER_PROTOCOL_VERSION,
  id: 'n1',
  address: '127.0.0.1:7001',
  founders: null,
  ...overrides,
});

// Goal: a peer frame is trusted only in the shape our nodes send, so nothing a peer sends can reach
// an assertion or make this node dial an address it cannot use.
describe('peer frame shape', () => {
  it('accepts the handshake frames our nodes send, and refuses malformed versions, releases and bad addresses', () => {
    expect(isPeerFrame(hello())).toBe(true);
    expect(isPeerFrame(hello({ nonce: new Uint8Array(32), founders: ['n1', 'n2'] }))).toBe(true);
    // Another version is well formed: the handshake refuses it, saying why (see peer-handshake.test.ts).
    expect(isPeerFrame(hello({ v: 2 }))).toBe(true);
    expect(isPeerFrame(hello({ v: 0 }))).toBe(false);
    expect(isPeerFrame(hello({ v: '3' }))).toBe(false);
    expect(isPeerFrame(hello({ release: { protocolMax: 4, clusterVersionMax: 2, version: '0.3.0' } }))).toBe(true);
    expect(isPeerFrame(hello({ release: { protocolMax: 4, clusterVersionMax: -1, version: '0.3.0' } }))).toBe(false);
    expect(isPeerFrame(hello({ release: { protocolMax: 4, clusterVersionMax: 2, version: 'x'.repeat(65) } }))).toBe(false);
    expect(isPeerFrame(hello({ address: '127.0.0.1:99999' }))).toBe(false);
    expect(isPeerFrame(hello({ address: 'no-port' }))).toBe(false);
    expect(isPeerFrame(hello({ nonce: new Uint8Array(8) }))).toBe(false);
    expect(isPeerFrame(hello({ founders: [''] }))).toBe(false);
    expect(isPeerFrame(hello({ holdsState: true }))).toBe(true);
    expect(isPeerFrame(hello({ holdsState: 'yes' }))).toBe(false);
    expect(isPeerFrame({ t: 'auth', proof: 'text' })).toBe(false);
  });

  it('refuses forward replies with unknown error codes, and non-positive request ids', () => {
    expect(isPeerFrame({ t: 'forwardReply', requestId: 3, ok: false, error: { code: 'NO_LEADER', message: 'x', retryAfterMs: 100 } })).toBe(true);
    expect(isPeerFrame({ t: 'forwardReply', requestId: 3, ok: false, error: { code: 'MADE_UP', message: 'x' } })).toBe(false);
    expect(isPeerFrame({ t: 'forwardReply', requestId: 0, ok: true, result: {} })).toBe(false);
    expect(isPeerFrame({ t: 'forward', requestId: 1, request: 'enqueue' })).toBe(false);
  });

  it('refuses snapshot chunks whose header is malformed, before anything is allocated for them', () => {
    const header = {
      message: { type: 'snapshot', from: 'a', to: 'b', term: 3, snapshot: { meta: { index: 10, term: 3, membership: { voters: ['a'], learners: [] } } } },
      bytes: 2_000_000_000,
      digest: new Uint8Array(32),
    };
    expect(isPeerFrame({ t: 'snapshotChunk', transfer: 1, seq: 0, data: new Uint8Array(4), header })).toBe(true);
    expect(isPeerFrame({ t: 'snapshotChunk', transfer: 1, seq: 0, data: new Uint8Array(4), header: { ...header, digest: new Uint8Array(3) } })).toBe(false);
    expect(isPeerFrame({ t: 'snapshotChunk', transfer: 1, seq: 0, data: new Uint8Array(4), header: { ...header, bytes: -1 } })).toBe(false);
    expect(isPeerFrame({ t: 'snapshotChunk', transfer: -1, seq: 0, data: new Uint8Array(4) })).toBe(false);
  });

  it('knows a dialable address', () => {
    for (const good of ['127.0.0.1:1', 'localhost:7001', 'node-1.example.com:65535', '[::1]:7001']) expect(isPeerAddress(good), good).toBe(true);
    for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', ':7001', 'host:', 'a b:1', '[::1:7001', 'x'.repeat(300) + ':1', 'host:+1', 42])
      expect(isPeerAddress(bad), String(bad)).toBe(false);
  });
});
