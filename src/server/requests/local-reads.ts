import { idNumber, type QueueStateMachine } from '../../queue/index.ts';
import { type ClientRequest, type ReadRequest, RequestError } from '../../shared/index.ts';
import type { ClusterView } from '../membership/index.ts';

/** Whether a request is a read: answered where it was asked, after a ReadIndex unless stale. */
export function isReadRequest(request: ClientRequest): request is ReadRequest {
  switch (request.op) {
    case 'getQueue':
    case 'listQueues':
    case 'getMessage':
    case 'peek':
    case 'cluster':
      return true;
    default:
      return false;
  }
}

/** Answers a read from this node's replica as it stands (the caller has waited for what it must see). */
export function readLocally(machine: QueueStateMachine, cluster: () => ClusterView, request: ReadRequest): unknown {
  switch (request.op) {
    case 'getQueue':
      return machine.stats(request.queue) ?? notFound(`queue ${request.queue} does not exist`);
    case 'listQueues':
      return { queues: machine.list() };
    case 'getMessage':
      return machine.messageStatus(request.queue, request.id) ?? notFound(`message ${request.id} is not in queue ${request.queue}`);
    case 'peek':
      return (
        machine.peek(request.queue, request.state, request.limit, request.after === undefined ? -1 : idNumber(request.after)) ??
        notFound(`queue ${request.queue} does not exist`)
      );
    case 'cluster':
      return cluster();
  }
}

function notFound(message: string): never {
  throw new RequestError('NOT_FOUND', message);
}
