import { PEEK_LIMITS, PEEK_STATES, type PeekState, type ReadRequest, RequestError } from '../../shared/index.ts';

/** A message id as the queues hand them out (base 36); `after` names one. */
const MESSAGE_ID_PATTERN = /^[0-9a-z]{1,12}$/;

/** The fields of a peek, from the HTTP query (strings) or a WebSocket frame (numbers). */
export interface PeekFields {
  readonly state: unknown;
  readonly limit: unknown;
  readonly after: unknown;
}

/** Validates a peek: a known state, a limit of 1..limitMax (default limitDefault), an optional message id. */
export function peekRequest(queue: string, fields: PeekFields, stale: boolean): Extract<ReadRequest, { op: 'peek' }> {
  const state = fields.state ?? 'ready';
  if (typeof state !== 'string' || !(PEEK_STATES as readonly string[]).includes(state)) {
    throw new RequestError('BAD_REQUEST', `state must be one of ${PEEK_STATES.join(', ')}`);
  }
  const limit =
    fields.limit === undefined
      ? PEEK_LIMITS.limitDefault
      : typeof fields.limit === 'string' && /^\d{1,4}$/.test(fields.limit)
        ? Number(fields.limit)
        : fields.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > PEEK_LIMITS.limitMax) {
    throw new RequestError('BAD_REQUEST', `limit must be an integer from 1 to ${PEEK_LIMITS.limitMax}`);
  }
  const after = fields.after;
  if (after !== undefined && (typeof after !== 'string' || !MESSAGE_ID_PATTERN.test(after))) {
    throw new RequestError('BAD_REQUEST', 'after must be a message id, the next of the previous page');
  }
  const request = { op: 'peek' as const, queue, state: state as PeekState, limit, stale };
  return after === undefined ? request : { ...request, after };
}
