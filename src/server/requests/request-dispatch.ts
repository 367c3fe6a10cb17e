import { type ClientRequest, RequestError } from '../../shared/index.ts';
import type { RequestHandler } from '../node/quorum-node.ts';

/** Runs any client request: writes through the leader, reads from local state after a ReadIndex. */
export async function dispatch(handler: RequestHandler, request: ClientRequest): Promise<unknown> {
  switch (request.op) {
    case 'getQueue':
    case 'listQueues':
    case 'getMessage':
    case 'cluster':
      if (!request.stale) await handler.linearizable();
      return read(handler, request);
    default:
      return handler.write(request);
  }
}

function read(handler: RequestHandler, request: Extract<ClientRequest, { stale: boolean }>): unknown {
  switch (request.op) {
    case 'getQueue':
      return handler.machine.stats(request.queue) ?? notFound(`queue ${request.queue} does not exist`);
    case 'listQueues':
      return { queues: handler.machine.list() };
    case 'getMessage':
      return handler.machine.messageStatus(request.queue, request.id) ?? notFound(`message ${request.id} is not in queue ${request.queue}`);
    case 'cluster':
      return handler.cluster();
  }
}

function notFound(message: string): never {
  throw new RequestError('NOT_FOUND', message);
}
