import { describe, expect, it } from 'vitest';
import { type CompletionType, type DeliveredMessage, HistoryRecorder } from '../../../scripts/chaos/history.ts';
import { checkPauses } from '../../../scripts/chaos/pause-checker.ts';

const OPERATOR = 2000;
const CONSUMER = 1000;
const delivery = (value: string): DeliveredMessage => ({ value, id: value, receipt: `${value}:1`, attempt: 1 });

function timeline() {
  let now = 0;
  const recorder = new HistoryRecorder(() => now++);
  const steps = {
    pause(paused: boolean, type: CompletionType = 'ok') {
      recorder.invoke(OPERATOR, { f: 'pause', value: { paused } });
      recorder.complete(OPERATOR, type, { f: 'pause', value: { paused } });
      return steps;
    },
    invokePause(paused: boolean) {
      recorder.invoke(OPERATOR, { f: 'pause', value: { paused } });
      return steps;
    },
    completePause(paused: boolean) {
      recorder.complete(OPERATOR, 'ok', { f: 'pause', value: { paused } });
      return steps;
    },
    invokeReceive() {
      recorder.invoke(CONSUMER, { f: 'receive', value: null });
      return steps;
    },
    completeReceive(...values: string[]) {
      recorder.complete(CONSUMER, 'ok', { f: 'receive', value: values.map(delivery) });
      return steps;
    },
    history: () => recorder.history,
  };
  return steps;
}

describe('the pause checker', () => {
  it('flags a receive begun after a pause was acknowledged and ended before a resume was asked for that delivered', () => {
    const history = timeline().pause(true).invokeReceive().completeReceive('a').pause(false).history();
    const findings = checkPauses(history, 5);
    expect(findings.windows).toBe(1);
    expect(findings.deliveredWhilePaused.count).toBe(1);
    expect(findings.deliveredWhilePaused.examples[0]!.values).toEqual(['a']);
  });

  it('accepts deliveries that may have come before the pause or after the resume', () => {
    // Begun before the pause's acknowledgement: it may be ordered before the pause.
    const early = timeline().invokeReceive().pause(true).completeReceive('a').history();
    expect(checkPauses(early, 5).deliveredWhilePaused.count).toBe(0);
    // Ended after the resume was asked for: it may be ordered after the resume.
    const late = timeline().pause(true).invokeReceive().invokePause(false).completeReceive('b').completePause(false).history();
    expect(checkPauses(late, 5).deliveredWhilePaused.count).toBe(0);
    // A pause whose outcome is unknown proves nothing.
    const unknown = timeline().pause(true, 'info').invokeReceive().completeReceive('c').history();
    expect(checkPauses(unknown, 5)).toEqual({ windows: 0, deliveredWhilePaused: { count: 0, examples: [] } });
  });

  it('accepts an empty receive while paused', () => {
    const history = timeline().pause(true).invokeReceive().completeReceive().pause(false).history();
    expect(checkPauses(history, 5).deliveredWhilePaused.count).toBe(0);
  });
});
