/**
 * A receipt names one lease: `<message id>:<attempt>`. Each delivery increments the attempt, so a
 * receipt from an earlier lease no longer matches (LEASE_EXPIRED). The client reads the message id
 * back out of it the same way the cluster does.
 */
export function receiptOf(message: { id: string; attempt: number }): string {
  return `${message.id}:${message.attempt}`;
}

/** A malformed receipt keeps its whole text as the id and an attempt no lease has. */
export function parseReceipt(receipt: string): { id: string; attempt: number } {
  const separator = receipt.lastIndexOf(':');
  const attempt = Number(receipt.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(attempt) || attempt < 1) return { id: receipt, attempt: -1 };
  return { id: receipt.slice(0, separator), attempt };
}
