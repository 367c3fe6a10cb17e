import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Entry, Raft } from '../../../../src/raft/index.ts';
import { ClusterFounding, type FoundingCore } from '../../../../src/server/membership/cluster-founding.ts';
import { decode } from '../../../../src/shared/codec.ts';
import { MemoryStorage } from '../../../../src/storage/index.ts';

// Goal: a node that learns its cluster's founders announces them only once they are stored, and
// tries a refused write again, so that it never starts without them while holding state.
const log = pino({ level: 'silent' });

/** A member whose log starts with the founding configuration, and nothing else of a core. */
function memberCore(): FoundingCore {
  const first: Entry = { index: 1, term: 1, kind: 'config', data: new Uint8Array(0), membership: { voters: ['a', 'b', 'c'], learners: [] } };
  const core = {
    entryAt: (index: number) => (index === 1 ? first : undefined),
    status: () => ({ lastIndex: 4, recovering: false, leader: 'a' }),
  } as unknown as Raft;
  return { core, submit: () => undefined };
}

/** Storage whose founders writes fail `failures` times, then succeed once `release` is called. */
class SlowStorage extends MemoryStorage {
  failures = 1;
  private waiting: (() => void)[] = [];

  override async putMeta(key: string, value: Uint8Array): Promise<void> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('disk refused the write');
    }
    await super.putMeta(key, value);
  }

  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ClusterFounding.learn', () => {
  it('announces the founders only once stored, and retries a refused write after a pause', async () => {
    let now = 0;
    const founding = new ClusterFounding({
      id: 'b',
      bootstrapExpect: 0,
      driver: memberCore(),
      peers: () => [],
      newCore: () => {
        throw new Error('no bootstrap expected');
      },
      log,
      nowMs: () => now,
    });
    const storage = new SlowStorage();
    await founding.load(storage);
    expect(founding.founders).toBeNull();

    founding.onHousekeeping();
    founding.onHousekeeping();
    // Not yet stored: not announced.
    expect(founding.founders).toBeNull();
    storage.release();
    await settle();
    // The write failed: still not announced, and not tried again before the pause is over.
    expect(founding.founders).toBeNull();
    founding.onHousekeeping();
    await settle();
    storage.release();
    await settle();
    expect(founding.founders).toBeNull();

    now = 1_500;
    founding.onHousekeeping();
    expect(founding.founders).toBeNull();
    storage.release();
    await settle();
    expect(founding.founders).toEqual(['a', 'b', 'c']);
    expect(decode((await storage.getMeta('founders'))!)).toEqual(['a', 'b', 'c']);
  });
});
