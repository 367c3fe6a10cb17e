import type { Failpoints } from '../../storage/index.ts';
import type { RaftDriverOptions } from './raft-driver.ts';

/**
 * The driver's hooks with crash points around applying entries and installing a leader's snapshot.
 * Without failpoints the hooks are returned as they are: the ready loop pays nothing.
 */
export function withFailpoints(failpoints: Failpoints | undefined, hooks: RaftDriverOptions): RaftDriverOptions {
  if (failpoints === undefined) return hooks;
  return {
    ...hooks,
    apply: (entry) => {
      failpoints.hit('before-apply');
      hooks.apply(entry);
      failpoints.hit('after-apply');
    },
    installSnapshot: (snapshot) => {
      failpoints.hit('before-snapshot-install');
      hooks.installSnapshot(snapshot);
      failpoints.hit('after-snapshot-install');
    },
  };
}
