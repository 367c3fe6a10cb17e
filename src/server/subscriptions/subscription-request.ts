import { QUEUE_LIMITS } from '../../queue/index.ts';
import { RequestError, SUBSCRIPTION_LIMITS, type SubscriptionRequest } from '../../shared/index.ts';
import { validQueueName } from '../requests/index.ts';

/** Whether a WebSocket frame asks for a push subscription rather than a plain request. */
export function isSubscriptionFrame(frame: Record<string, unknown>): boolean {
  return frame.op === 'subscribe' || frame.op === 'unsubscribe';
}

/** Turns a `subscribe` or `unsubscribe` frame into a request; bad fields are BAD_REQUEST. */
export function subscriptionRequestOfFrame(frame: Record<string, unknown>): SubscriptionRequest {
  if (frame.op === 'unsubscribe') return { op: 'unsubscribe', subscription: integerField(frame, 'subscription', 1, Number.MAX_SAFE_INTEGER) };
  if (frame.op !== 'subscribe') throw new RequestError('BAD_REQUEST', `unknown op ${JSON.stringify(frame.op)}`);
  const queue = validQueueName(frame.queue);
  const prefetch = integerField(frame, 'prefetch', 1, SUBSCRIPTION_LIMITS.prefetchMax);
  if (frame.visibilityMs === undefined) return { op: 'subscribe', queue, prefetch };
  return { op: 'subscribe', queue, prefetch, visibilityMs: integerField(frame, 'visibilityMs', 1, QUEUE_LIMITS.visibilityMsMax) };
}

function integerField(frame: Record<string, unknown>, key: string, min: number, max: number): number {
  const value = frame[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RequestError('BAD_REQUEST', `${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}
