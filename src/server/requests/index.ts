/**
 * A client request's way through a node (`RequestPath`): validation, reads after a ReadIndex,
 * writes proposed on the leader or forwarded to it, and their answers once applied.
 */
export { fromErrorBody, toErrorBody } from './error-body.ts';
export { forwardedRequest, requestOfFrame } from './frame-request.ts';
export { peekRequest } from './peek-request.ts';
export { redriveRequest } from './redrive-request.ts';
export { type CoreInput, type DiskState, type PeerLinks, type RequestClocks, RequestPath, type RequestPathOptions } from './request-path.ts';
export {
  configureRequest,
  enqueueRequest,
  objectBody,
  promoteRequest,
  REQUEST_LIMITS,
  receiveRequest,
  settleRequest,
  validQueueName,
} from './request-validation.ts';
export { RETRY_AFTER_MS } from './retry-after.ts';
