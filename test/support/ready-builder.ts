import type { Entry, Ready } from '../../src/raft/index.ts';
import { EMPTY_READY } from '../../src/server/membership/empty-ready.ts';

/** A ready with only `fields` set, synced unless it says otherwise: what storage tests write. */
export function ready(fields: Partial<Ready>): Ready {
  return { ...EMPTY_READY, mustSync: true, ...fields };
}

/** A normal entry with no data. */
export const entry = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: new Uint8Array(0) });
