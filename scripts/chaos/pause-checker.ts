// What pausing a queue promises, decided from a history alone: a receive that began after a pause
// was acknowledged and ended before anyone asked to resume delivers nothing. Both are writes through
// the log, so the receive is ordered after the pause and before any resume; a delivery from it
// means the pause did not hold. Precedence comes from positions in the history, as in the queue
// checker. A pause whose outcome is unknown (info) proves nothing and opens no window.
import type { DeliveredMessage, History } from './history.ts';

export interface DeliveredWhilePausedExample {
  readonly pausedAtMs: number;
  readonly receiveInvokedAtMs: number;
  readonly receiveCompletedAtMs: number;
  readonly values: readonly string[];
}

export interface PauseFindings {
  /** Windows in which the queue was known paused. */
  readonly windows: number;
  readonly deliveredWhilePaused: { readonly count: number; readonly examples: readonly DeliveredWhilePausedExample[] };
}

interface Window {
  readonly from: number;
  readonly fromMs: number;
  /** Position of the next resume's invocation; Infinity if none came. */
  to: number;
}

export function checkPauses(history: History, examplesMax: number): PauseFindings {
  const windows: Window[] = [];
  let open: Window | undefined;
  const receiveStarts = new Map<number, { index: number; time: number }>();
  const examples: DeliveredWhilePausedExample[] = [];
  let count = 0;
  history.forEach((event, index) => {
    if (event.f === 'pause') {
      if (event.type === 'invoke' && !event.value.paused && open !== undefined) {
        open.to = index;
        open = undefined;
      }
      if (event.type === 'ok' && event.value.paused && open === undefined) {
        open = { from: index, fromMs: event.time, to: Number.POSITIVE_INFINITY };
        windows.push(open);
      }
      return;
    }
    if (event.f !== 'receive') return;
    if (event.type === 'invoke') {
      receiveStarts.set(event.process, { index, time: event.time });
      return;
    }
    const start = receiveStarts.get(event.process);
    receiveStarts.delete(event.process);
    const delivered: readonly DeliveredMessage[] = event.type === 'ok' ? (event.value ?? []) : [];
    if (start === undefined || delivered.length === 0) return;
    const window = windows.find((candidate) => candidate.from < start.index && index < candidate.to);
    if (window === undefined) return;
    count++;
    if (examples.length < examplesMax) {
      examples.push({
        pausedAtMs: window.fromMs,
        receiveInvokedAtMs: start.time,
        receiveCompletedAtMs: event.time,
        values: delivered.map((message) => message.value),
      });
    }
  });
  return { windows: windows.length, deliveredWhilePaused: { count, examples } };
}
