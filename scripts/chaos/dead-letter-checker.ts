// What dead-lettering and redrive promise, decided from a history alone: when a run dead-letters
// messages and redrives them back until the queue and its dead-letter queue are both empty, every
// acknowledged value left the queue by an ack. So each was acked, or at least an ack naming one of
// its deliveries may have taken effect (an ack whose outcome is unknown counts). A value with no
// such ack was lost on the way through the dead-letter queue: dropped by a redrive, or never placed.
import type { History } from './history.ts';

export interface NeverAckedFinding {
  readonly count: number;
  readonly examples: readonly string[];
}

export function checkEveryValueAcked(history: History, examplesMax: number): NeverAckedFinding {
  const acknowledged = new Set<string>();
  const valueOfReceipt = new Map<string, string>();
  const maybeAcked = new Set<string>();
  const openAcks = new Map<number, readonly string[]>();
  for (const event of history) {
    if (event.f === 'enqueue' && event.type === 'ok') acknowledged.add(event.value.value);
    if (event.f === 'receive' && event.type === 'ok') for (const message of event.value ?? []) valueOfReceipt.set(message.receipt, message.value);
    if (event.f !== 'ack') continue;
    if (event.type === 'invoke') {
      openAcks.set(event.process, event.value.receipts);
      continue;
    }
    openAcks.delete(event.process);
    if (event.type === 'fail') continue;
    const refused = new Set(event.type === 'ok' ? (event.value.rejected ?? []) : []);
    for (const receipt of event.value.receipts) if (!refused.has(receipt)) maybeAcked.add(valueOfReceipt.get(receipt) ?? '');
  }
  // An ack still open when the history ended may have taken effect too.
  for (const receipts of openAcks.values()) for (const receipt of receipts) maybeAcked.add(valueOfReceipt.get(receipt) ?? '');
  const never = [...acknowledged].filter((value) => !maybeAcked.has(value));
  return { count: never.length, examples: never.slice(0, examplesMax) };
}
