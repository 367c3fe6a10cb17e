// Soak or replay the Raft simulator.
//   npm run sim -- --runs 2000              fresh random seed, 2000 schedules per cluster size
//   npm run sim -- --seed 42 --runs 1       replay one seed
//   npm run sim -- --seed 42 --path 3:1:0   replay a shrunk counterexample printed by a failure
//   options: --voters 3|5 (default both), --steps N (default 300)
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { runSchedule, ScheduleFailure, type ScheduleReport } from '../test/sim/run-schedule.ts';
import { describeAction, type ScheduleParams, type SimAction, scheduleArbitrary } from '../test/sim/schedule.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '500' },
    seed: { type: 'string' },
    path: { type: 'string' },
    voters: { type: 'string' },
    steps: { type: 'string', default: '300' },
  },
});

const runs = positiveInteger(values.runs, 'runs');
const steps = positiveInteger(values.steps, 'steps');
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const clusterSizes = values.voters === undefined ? [3, 5] : [positiveInteger(values.voters, 'voters')];

let failed = false;
for (const voters of clusterSizes) failed = soak(voters) || failed;
process.exit(failed ? 1 : 0);

function soak(voters: number): boolean {
  // Shrinking re-runs failing schedules; only the first numRuns reports describe the soak.
  const reports: ScheduleReport[] = [];
  const started = performance.now();
  const result = fc.check(
    fc.property(scheduleArbitrary(voters, steps), ([params, actions]) => {
      reports.push(runSchedule(params, actions));
    }),
    { seed, numRuns: runs, ...(values.path === undefined ? {} : { path: values.path }) },
  );
  const seconds = (performance.now() - started) / 1000;
  reports.length = Math.min(reports.length, result.numRuns);
  const total = (key: keyof ScheduleReport['counters']) => reports.reduce((sum, r) => sum + r.counters[key], 0);
  const checks = reports.reduce((sum, r) => sum + r.checks, 0);
  console.log(
    `${voters} voters, seed ${seed}: ${reports.length} schedules x ${steps} steps in ${seconds.toFixed(1)} s ` +
      `(${(reports.length / seconds).toFixed(0)} schedules/s), ${checks} invariant checks; ` +
      `elections ${total('elections')}, crashes ${total('crashes')} (${total('crashesMidWrite')} mid-write), snapshots installed ${total('snapshotsInstalled')}, ` +
      `membership changes ${total('membershipChanges')}, transfers ${total('transfers')}, reads served ${total('readsServed')}, ` +
      `disks damaged ${total('disksDamaged')}, recoveries ${total('recoveries')}, halted by recovery ${reports.filter((r) => r.haltedByRecovery).length}`,
  );
  if (!result.failed) return false;
  printFailure(voters, result);
  return true;
}

function printFailure(voters: number, result: fc.RunDetails<[[ScheduleParams, SimAction[]]]>): void {
  const [[params, actions]] = result.counterexample!;
  const error = result.errorInstance;
  const lastStep = error instanceof ScheduleFailure ? error.step : actions.length - 1;
  console.log(`\nFAILED ${error instanceof Error ? error.message : String(error)}`);
  console.log(`params: ${JSON.stringify(params)}`);
  console.log(`schedule (shrunk, up to the failing step):`);
  actions.slice(0, lastStep + 1).forEach((action, step) => console.log(`  ${step}: ${describeAction(action)}`));
  console.log(`\nreplay: npm run sim -- --voters ${voters} --seed ${seed} --steps ${steps} --path ${result.counterexamplePath}`);
}

function positiveInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
}
