import { describe, expect, it } from 'vitest';
import { FailpointStorage } from '../../../src/storage/failpoint-storage.ts';
import { FAILPOINT_NAMES, FAILPOINTS_ENV, type FailpointName, Failpoints, MemoryStorage, parseFailpoints } from '../../../src/storage/index.ts';
import { configError } from '../../support/config-error.ts';
import { ready } from '../../support/ready-builder.ts';

describe('failpoints', () => {
  describe('when parsed from the environment', () => {
    it('reads name=crash as a crash on the first hit', () => {
      expect(parseFailpoints('after-append-sync=crash')).toEqual([{ name: 'after-append-sync', action: 'crash', onHit: 1 }]);
    });

    it('reads name=crash@N as a crash on the N-th hit, several points separated by commas', () => {
      expect(parseFailpoints('before-vote-sync=crash@3, after-apply=crash')).toEqual([
        { name: 'before-vote-sync', action: 'crash', onHit: 3 },
        { name: 'after-apply', action: 'crash', onHit: 1 },
      ]);
    });

    it('accepts every documented point', () => {
      expect(parseFailpoints(FAILPOINT_NAMES.map((name) => `${name}=crash`).join(',')).map((spec) => spec.name)).toEqual([...FAILPOINT_NAMES]);
    });

    it.each([
      ['an unknown name', 'after-append-sinc=crash', /unknown failpoint "after-append-sinc"/],
      ['an unknown action', 'after-apply=hang', /unknown action "hang"/],
      ['a zero hit count', 'after-apply=crash@0', /1 or more/],
      ['a missing action', 'after-apply', /not name=crash/],
      ['a point given twice', 'after-apply=crash,after-apply=crash@2', /given twice/],
    ])('refuses %s with a config error naming the variable', (_what, text, message) => {
      const error = configError(() => parseFailpoints(text));
      expect(error?.code).toBe('INVALID_CONFIG');
      expect(error?.message).toContain(FAILPOINTS_ENV);
      expect(error?.message).toMatch(message);
    });

    it('costs nothing when the variable is unset or blank', () => {
      expect(Failpoints.fromEnvironment({})).toBeUndefined();
      expect(Failpoints.fromEnvironment({ [FAILPOINTS_ENV]: ' ' })).toBeUndefined();
      expect(Failpoints.fromEnvironment({ [FAILPOINTS_ENV]: 'after-apply=crash' })?.has('after-apply')).toBe(true);
    });
  });

  describe('when hit', () => {
    it('crashes exactly on the configured hit, and ignores points that are not armed', () => {
      const crashed: FailpointName[] = [];
      const points = new Failpoints(parseFailpoints('after-append-sync=crash@3'), (name) => crashed.push(name));
      for (let i = 0; i < 5; i++) {
        points.hit('after-append-sync');
        points.hit('before-apply');
      }
      expect(crashed).toEqual(['after-append-sync']);
    });
  });
});

describe('FailpointStorage', () => {
  it('fires vote points only for a new term or vote, append points for entries, each side of the write', async () => {
    const events: string[] = [];
    const inner = new MemoryStorage();
    const save = inner.save.bind(inner);
    inner.save = async (r) => {
      events.push('write');
      await save(r);
    };
    const points = new Failpoints(
      FAILPOINT_NAMES.map((name) => ({ name, action: 'crash', onHit: 1_000 })),
      () => undefined,
    );
    const hits: string[] = [];
    const hit = points.hit.bind(points);
    points.hit = (name) => {
      hits.push(name);
      events.push(name);
      hit(name);
    };
    const storage = new FailpointStorage(inner, points);
    await storage.load();
    await storage.save(ready({ hardState: { term: 2, vote: 'a', commit: 0 } }));
    await storage.save(ready({ hardState: { term: 2, vote: 'a', commit: 1 }, entries: [{ index: 1, term: 2, kind: 'noop', data: new Uint8Array(0) }] }));
    expect(events).toEqual(['before-vote-sync', 'write', 'after-vote-sync', 'before-append-sync', 'write', 'after-append-sync']);
    expect(hits).not.toContain('before-snapshot-save');
  });
});

describe('Failpoints armed at run time', () => {
  it('counts hits from the moment a point is armed, and disarming stops it', () => {
    const crashed: string[] = [];
    const points = Failpoints.fromEnvironment({}, true)!;
    expect(Failpoints.fromEnvironment({}, false)).toBeUndefined();
    const armed = new Failpoints([], (name) => crashed.push(name));
    armed.hit('after-apply');
    armed.arm({ name: 'after-apply', action: 'crash', onHit: 2 });
    armed.hit('after-apply');
    expect(crashed).toEqual([]);
    armed.hit('after-apply');
    expect(crashed).toEqual(['after-apply']);
    armed.arm({ name: 'before-apply', action: 'crash', onHit: 1 });
    expect(armed.describe().map((spec) => spec.name)).toEqual(['after-apply', 'before-apply']);
    armed.disarmAll();
    armed.hit('before-apply');
    expect(crashed).toEqual(['after-apply']);
    expect(points.describe()).toEqual([]);
  });
});
