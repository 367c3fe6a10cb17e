// The pass/fail lines of a benchmark script that checks bounds (million.ts, backlog.ts): one line
// per check, and a non-zero exit code when any failed.

/** A check's description and whether it held. */
export type Verdict = readonly [what: string, ok: boolean];

export function reportVerdicts(verdicts: readonly Verdict[]): void {
  for (const [what, ok] of verdicts) console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  process.exitCode = verdicts.every(([, ok]) => ok) ? 0 : 1;
}
