import { REDRIVE_LIMITS, RequestError, type WriteRequest } from '../../shared/index.ts';
import { objectBody, validQueueName } from './request-validation.ts';

/** `{ to?, max?, ratePerSec? }` for a redrive out of `queue`; an absent body moves everything to its origins. */
export function redriveRequest(queue: string, raw: unknown): Extract<WriteRequest, { op: 'redrive' }> {
  const body = raw === undefined ? {} : objectBody(raw);
  const max = integerOr(body.max, 'max', REDRIVE_LIMITS.maxMax, REDRIVE_LIMITS.maxMax);
  const request = { op: 'redrive' as const, queue, max };
  const to = body.to === undefined ? undefined : validQueueName(body.to);
  if (to === queue) throw new RequestError('BAD_REQUEST', 'a redrive moves messages to another queue than their own');
  const ratePerSec = body.ratePerSec === undefined ? undefined : integerOr(body.ratePerSec, 'ratePerSec', REDRIVE_LIMITS.ratePerSecMax, 0);
  return { ...request, ...(to === undefined ? {} : { to }), ...(ratePerSec === undefined ? {} : { ratePerSec }) };
}

function integerOr(value: unknown, key: string, most: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > most) {
    throw new RequestError('BAD_REQUEST', `${key} must be an integer from 1 to ${most}`);
  }
  return value;
}
