import { describe, expect, it } from 'vitest';
import { isMessage, isSnapshotAnnouncement, type Message } from '../../../src/raft/index.ts';

const entry = (index: number, term: number) => ({ index, term, kind: 'normal', data: new Uint8Array(1) });
const append = (overrides: Record<string, unknown> = {}): unknown => ({
  type: 'append',
  from: 'a',
  to: 'b',
  term: 5,
  prevIndex: 10,
  prevTerm: 4,
  commit: 9,
  entries: [entry(11, 4), entry(12, 5)],
  ...overrides,
});

// Goal: a Raft message from the network reaches the core only in a shape correct nodes send; the
// simulator checks the other direction (every message correct nodes send passes, test/sim).
describe('Raft message shape', () => {
  it('accepts each kind of message in the shape the core sends', () => {
    const messages: Message[] = [
      append() as Message,
      { type: 'appendResponse', from: 'b', to: 'a', term: 5, index: 12, reject: false, rejectHint: 0, rejectTerm: 0 },
      { type: 'heartbeat', from: 'a', to: 'b', term: 5, commit: 9, readContext: '' },
      { type: 'heartbeatResponse', from: 'b', to: 'a', term: 5, readContext: 'r1', recovering: true },
      { type: 'vote', from: 'a', to: 'b', term: 6, lastIndex: 12, lastTerm: 5, transfer: false },
      { type: 'preVoteResponse', from: 'b', to: 'a', term: 6, reject: true },
      { type: 'timeoutNow', from: 'a', to: 'b', term: 5 },
      { type: 'readIndex', from: 'b', to: 'a', term: 5, readContext: 'r2' },
      { type: 'readIndexResponse', from: 'a', to: 'b', term: 5, readContext: 'r2', index: 12, reject: false, refusal: 'NOT_LEADER' },
    ];
    for (const message of messages) expect(isMessage(message), message.type).toBe(true);
  });

  it('refuses appends whose entries do not follow prevIndex, or whose terms fall or pass the message term', () => {
    expect(isMessage(append({ entries: [entry(12, 4)] }))).toBe(false);
    expect(isMessage(append({ entries: [entry(11, 5), entry(12, 4)] }))).toBe(false);
    expect(isMessage(append({ entries: [entry(11, 6)] }))).toBe(false);
    expect(isMessage(append({ prevTerm: 6, entries: [] }))).toBe(false);
    expect(isMessage(append({ entries: [{ ...entry(11, 4), kind: 'config' }] }))).toBe(false);
    expect(isMessage(append({ entries: [{ ...entry(11, 4), kind: 'config', membership: { voters: ['a', 'a'], learners: [] } }] }))).toBe(false);
    expect(isMessage(append({ entries: [{ ...entry(11, 4), data: 'text' }] }))).toBe(false);
    expect(isMessage(append({ entries: Array.from({ length: 5000 }, (_, i) => entry(11 + i, 4)) }))).toBe(false);
  });

  it('refuses unknown types, whole snapshots, and fields of the wrong type or range', () => {
    for (const bad of [
      { type: 'gossip', from: 'a', to: 'b', term: 1 },
      {
        type: 'snapshot',
        from: 'a',
        to: 'b',
        term: 1,
        snapshot: { meta: { index: 1, term: 1, membership: { voters: [], learners: [] } }, data: new Uint8Array() },
      },
      { type: 'heartbeat', from: 'a', to: 'b', term: -1, commit: 0, readContext: '' },
      { type: 'heartbeat', from: 'a', to: 'b', term: 1.5, commit: 0, readContext: '' },
      { type: 'heartbeat', from: 'a', to: 'b', term: 2 ** 60, commit: 0, readContext: '' },
      { type: 'heartbeat', from: '', to: 'b', term: 1, commit: 0, readContext: '' },
      { type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: '0', readContext: '' },
      { type: 'readIndex', from: 'a', to: 'b', term: 1, readContext: '' },
      { type: 'readIndexResponse', from: 'a', to: 'b', term: 1, readContext: 'r', index: 0, reject: true, refusal: 'MAYBE' },
      { type: 'vote', from: 'a', to: 'b', term: 1, lastIndex: 0, lastTerm: 0 },
      null,
      [],
      'heartbeat',
    ]) {
      expect(isMessage(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('checks a snapshot announcement, which travels without its data', () => {
    const meta = { index: 100, term: 3, membership: { voters: ['a', 'b', 'c'], learners: [] } };
    expect(isSnapshotAnnouncement({ type: 'snapshot', from: 'a', to: 'b', term: 3, snapshot: { meta } })).toBe(true);
    expect(isSnapshotAnnouncement({ type: 'snapshot', from: 'a', to: 'b', term: 3, snapshot: { meta: { ...meta, index: -1 } } })).toBe(false);
    expect(isSnapshotAnnouncement({ type: 'snapshot', from: 'a', to: 'b', term: 3, snapshot: {} })).toBe(false);
  });
});
