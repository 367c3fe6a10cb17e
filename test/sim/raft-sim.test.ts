import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSchedule, type ScheduleReport } from './run-schedule.ts';
import { scheduleArbitrary } from './schedule.ts';

// Fixed seeds keep CI reproducible; `npm run sim` soaks with fresh seeds.
const STEPS = 300;

function simulate(voters: number, seed: number, numRuns: number): ScheduleReport[] {
  const reports: ScheduleReport[] = [];
  fc.assert(
    fc.property(scheduleArbitrary(voters, STEPS), ([params, actions]) => {
      reports.push(runSchedule(params, actions));
    }),
    // Shrinking slow (liveness) failures could otherwise block CI for over 40 minutes.
    { seed, numRuns, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
  );
  return reports;
}

describe('raft under random faults (simulation)', () => {
  it('cluster: 3 voters, loss/duplication/reordering/partitions/crashes/membership/damaged disks (1000 schedules x 300 steps)', () => {
    const reports = simulate(3, 20261123, 1000);
    expect(reports.length).toBe(1000);
    expect(reports.every((report) => report.steps === STEPS)).toBe(true);
    expect(reports.reduce((sum, report) => sum + report.counters.elections, 0)).toBeGreaterThan(1000);
    // R11: damaged disks restart recovering and are repaired (the safety checks cover the rest).
    expect(reports.reduce((sum, report) => sum + report.counters.recoveries, 0)).toBeGreaterThan(100);
  });

  it('cluster: 5 voters, loss/duplication/reordering/partitions/crashes/membership/damaged disks (1000 schedules x 300 steps)', () => {
    const reports = simulate(5, 5201123, 1000);
    expect(reports.length).toBe(1000);
    expect(reports.reduce((sum, report) => sum + report.counters.snapshotsInstalled, 0)).toBeGreaterThan(0);
  });
});
