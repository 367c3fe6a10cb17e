import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
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

/**
 * One HTTP(S) call with a deadline (a node silent for `timeoutMs`); transport errors become the
 * pseudo-code NETWORK (indeterminate). `access`: the CA and token of a secured cluster.
 */
export async function httpCall(address: string, method: string, path: string, body: unknown, timeoutMs: number, access: NodeAccess = {}): Promise<HttpOutcome> {
  try {
    const reply = await nodeRequest(address, path, access, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs,
    });
    const parsed = reply.text === '' ? undefined : (JSON.parse(reply.text) as { error?: { code: string } });
    if (reply.status >= 200 && reply.status <= 299) return { code: undefined, body: parsed };
    return { code: parsed?.error?.code ?? `HTTP_${reply.status}`, body: parsed };
  } catch {
    return { code: 'NETWORK', body: undefined };
  }
}
