import type { CompletionType } from './history.ts';

/** Codes that prove a request was refused before anything reached the log. */
const DEFINITE_FAILURES = new Set(['BAD_REQUEST', 'INVALID_QUEUE_NAME', 'NOT_FOUND', 'TOO_LARGE', 'QUEUE_FULL', 'TOO_MANY_QUEUES', 'NO_LEADER', 'OVERLOADED']);

/**
 * How a history records an answer. Anything that might have been applied — a timeout, a dropped
 * connection, UNAVAILABLE, SHUTTING_DOWN — is `info`, never `fail` (RELIABILITY §1).
 */
export function completionOf(code: string | undefined): CompletionType {
  if (code === undefined) return 'ok';
  return DEFINITE_FAILURES.has(code) ? 'fail' : 'info';
}

export interface HttpOutcome {
  readonly code: string | undefined;
  readonly body: unknown;
}

/** One HTTP call with a deadline; transport errors become the pseudo-code NETWORK (indeterminate). */
export async function httpCall(address: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<HttpOutcome> {
  try {
    const response = await fetch(`http://${address}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as { error?: { code: string } });
    if (response.ok) return { code: undefined, body: parsed };
    return { code: parsed?.error?.code ?? `HTTP_${response.status}`, body: parsed };
  } catch {
    return { code: 'NETWORK', body: undefined };
  }
}
