import { type ClientRequest, RequestError, type WriteRequest } from '../../shared/index.ts';
import { isReadRequest } from './local-reads.ts';
import { peekRequest } from './peek-request.ts';
import { redriveRequest } from './redrive-request.ts';
import { configureRequest, enqueueRequest, objectBody, promoteRequest, receiveRequest, settleRequest, validQueueName } from './request-validation.ts';

/**
 * Turns a WebSocket request frame (`{ id, op, queue?, ...fields }`) into a client request, with
 * the same validation and the same errors as the HTTP routes.
 */
export function requestOfFrame(frame: Record<string, unknown>): ClientRequest {
  const op = frame.op;
  const stale = frame.stale === true;
  switch (op) {
    case 'enqueue': {
      const request = enqueueRequest(validQueueName(frame.queue), frame);
      // The SDK sends one message as a list of one and asks for the single-message answer.
      return request.op === 'enqueue' && frame.batch === false && request.messages.length === 1 ? { ...request, batch: false } : request;
    }
    case 'receive':
      return receiveRequest(validQueueName(frame.queue), frame);
    case 'ack':
    case 'nack':
    case 'extend':
      return settleRequest(op, validQueueName(frame.queue), frame);
    case 'configure':
      return configureRequest(validQueueName(frame.queue), frame.config === undefined ? {} : objectBody(frame.config));
    case 'purge':
    case 'delete':
    case 'pause':
    case 'resume':
      return { op, queue: validQueueName(frame.queue) };
    case 'redrive':
      return redriveRequest(validQueueName(frame.queue), { to: frame.to, max: frame.max, ratePerSec: frame.ratePerSec });
    case 'promote':
      return promoteRequest(validQueueName(frame.queue), { ids: frame.ids });
    case 'getQueue':
      return { op, queue: validQueueName(frame.queue), stale };
    case 'listQueues':
    case 'cluster':
      return { op, stale };
    case 'getMessage':
      if (typeof frame.messageId !== 'string') throw new RequestError('BAD_REQUEST', 'messageId must be a string');
      return { op, queue: validQueueName(frame.queue), id: frame.messageId, stale };
    case 'peek':
      return peekRequest(validQueueName(frame.queue), { state: frame.state, limit: frame.limit, after: frame.after }, stale);
    default:
      throw new RequestError('BAD_REQUEST', `unknown op ${JSON.stringify(op)}`);
  }
}

/**
 * A request another node forwarded to this leader, checked as a client's would be: a peer is
 * authenticated, not infallible, and what reaches the log is validated on the node that proposes it.
 * Messages are built afresh, so sizes are measured here, never taken from the sender.
 */
export function forwardedRequest(value: Record<string, unknown>): WriteRequest {
  const request = requestOfFrame(value);
  if (isReadRequest(request)) throw new RequestError('BAD_REQUEST', `${request.op} is answered where it was asked, never forwarded`);
  return request;
}
