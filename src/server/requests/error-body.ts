import { type ErrorBody, RequestError } from '../../shared/index.ts';

/**
 * A failure as the wire carries it (`{ code, message, retryAfterMs? }`): what HTTP, WebSocket
 * replies and forward replies send. Anything that is not a `RequestError` is our own bug, and
 * reaches the client as INTERNAL with its message.
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof RequestError) {
    return error.retryAfterMs === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, retryAfterMs: error.retryAfterMs };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** A failure a leader answered a forwarded request with, raised again on the follower that forwarded it. */
export function fromErrorBody(error: ErrorBody): RequestError {
  return new RequestError(error.code, error.message, error.retryAfterMs);
}
