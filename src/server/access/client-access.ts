import type { Logger } from 'pino';
import { type ClientRequest, RequestError, type SubscriptionRequest } from '../../shared/index.ts';
import type { AccessPolicy, Action, Principal } from './access-policy.ts';
import { RateLimitedLog } from './rate-limited-log.ts';

/** Who a request comes from, for the audit log. */
export interface Caller {
  readonly principal: Principal;
  readonly remote: string;
}

/** Everyone may do everything: a node started without an auth file. */
const OPEN: Principal = { name: 'anyone', may: () => true };

/**
 * A resource name no queue or topic can have: only a pattern made of stars alone matches it, so
 * `may(action, EVERY_NAME)` is true exactly for a token that holds `action` on every name.
 */
const EVERY_NAME = '*';

/**
 * Client authentication and authorization for both APIs (HTTP and WebSocket), and the audit log:
 * one line for every refusal (at a bounded rate, so that a client retrying in a loop cannot fill
 * the disk) and one for every admin action.
 */
export class ClientAccess {
  private readonly refusals: RateLimitedLog;

  constructor(
    private readonly policy: AccessPolicy | undefined,
    private readonly audit: Logger,
    /** Hears the code of every refusal, for the metrics. */
    private readonly onRefusal: (code: string) => void = () => undefined,
  ) {
    this.refusals = new RateLimitedLog(audit);
  }

  get required(): boolean {
    return this.policy !== undefined;
  }

  /** The caller an `Authorization` header names; UNAUTHORIZED when the node wants a token and this is not one. */
  authenticate(authorization: string | undefined, remote: string): Caller {
    if (this.policy === undefined) return { principal: OPEN, remote };
    const principal = this.policy.authenticate(authorization);
    if (principal === undefined) throw this.unauthorized(authorization === undefined, remote);
    return { principal, remote };
  }

  /** The same for a token given in a WebSocket `auth` frame. */
  authenticateToken(token: unknown, remote: string): Caller {
    if (this.policy === undefined) return { principal: OPEN, remote };
    const principal = typeof token === 'string' ? this.policy.authenticateToken(token) : undefined;
    if (principal === undefined) throw this.unauthorized(token === undefined, remote);
    return { principal, remote };
  }

  /** FORBIDDEN unless the caller may make `request`; admin actions are written to the audit log. */
  authorize(caller: Caller, request: ClientRequest | SubscriptionRequest): void {
    const needed = accessFor(request);
    if (needed === undefined) return;
    this.require(caller, needed.action, needed.resource, request.op);
    if (needed.action === 'admin' && this.policy !== undefined) {
      this.audit.info({ audit: 'admin', token: caller.principal.name, remote: caller.remote, op: request.op, resource: needed.resource }, 'admin action');
    }
  }

  /** For what is not a client request: `/metrics` (read), fault injection (admin on every name). */
  authorizeNode(caller: Caller, action: 'read' | 'admin', what: string): void {
    this.require(caller, action, action === 'admin' ? EVERY_NAME : undefined, what);
    if (action === 'admin' && this.policy !== undefined) {
      this.audit.info({ audit: 'admin', token: caller.principal.name, remote: caller.remote, op: what }, 'admin action');
    }
  }

  /** A request's answer as the caller may see it: a queue listing shows only the queues the token may read. */
  visibleResult(caller: Caller, request: ClientRequest, result: unknown): unknown {
    if (request.op !== 'listQueues') return result;
    const listing = result as { queues: { name: string }[] };
    return { ...listing, queues: listing.queues.filter((queue) => caller.principal.may('read', queue.name)) };
  }

  /** A refusal decided elsewhere (the browser guard): logged like the others. */
  noteRefusal(remote: string, code: string, reason: string, detail: { token?: string; op?: string } = {}): void {
    this.onRefusal(code);
    this.refusals.warn('request refused', { audit: 'refused', remote, code, reason, ...detail });
  }

  private require(caller: Caller, action: Action, resource: string | undefined, what: string): void {
    if (caller.principal.may(action, resource)) return;
    const on = resource === undefined ? '' : resource === EVERY_NAME ? ' on every queue' : ` on ${resource}`;
    const reason = `token ${caller.principal.name} may not ${action}${on} (${what})`;
    this.noteRefusal(caller.remote, 'FORBIDDEN', reason, { token: caller.principal.name, op: what });
    throw new RequestError('FORBIDDEN', reason);
  }

  private unauthorized(missing: boolean, remote: string): RequestError {
    const reason = missing ? 'this node requires a token: send Authorization: Bearer <token>' : 'the token is not one this node knows';
    this.noteRefusal(remote, 'UNAUTHORIZED', reason);
    return new RequestError('UNAUTHORIZED', reason);
  }
}

/**
 * What each operation needs. `cluster` needs only a valid token: clients of every kind ask it to
 * find the leader, and it tells where nodes are, not what they hold. `listQueues` needs `read` on
 * some name, and its answer is cut to the queues the token may read.
 */
function accessFor(request: ClientRequest | SubscriptionRequest): { action: Action; resource?: string } | undefined {
  switch (request.op) {
    case 'enqueue':
      return { action: 'produce', resource: request.queue };
    case 'receive':
    case 'ack':
    case 'nack':
    case 'extend':
    case 'subscribe':
      return { action: 'consume', resource: request.queue };
    case 'configure':
    case 'purge':
    case 'delete':
    case 'pause':
    case 'resume':
    case 'redrive':
    case 'promote':
      return { action: 'admin', resource: request.queue };
    case 'getQueue':
    case 'getMessage':
    case 'peek':
      return { action: 'read', resource: request.queue };
    case 'listQueues':
      return { action: 'read' };
    case 'cluster':
    case 'unsubscribe':
      return undefined;
  }
}
