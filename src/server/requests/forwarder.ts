import type { NodeId } from '../../raft/index.ts';
import { assert, RequestError, type WriteRequest } from '../../shared/index.ts';
import type { PeerFrame } from '../../transport/index.ts';
import { fromErrorBody } from './error-body.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

interface InFlight {
  readonly peer: NodeId;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: RequestError) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ForwarderOptions {
  readonly send: (to: NodeId, frame: PeerFrame) => boolean;
  readonly inFlightMax: number;
  /** Added to a request's own wait (a long-polling receive) before giving up on the leader. */
  readonly timeoutMs: number;
}

/**
 * Relays a follower's client requests to the leader over the peer link. A request whose answer
 * never comes back may still have been applied: it fails as TIMEOUT or UNAVAILABLE, both of which
 * tell the client the outcome is unknown and the request may be retried (with its dedupId).
 */
export class Forwarder {
  private nextRequestId = 1;
  private inFlight = new Map<number, InFlight>();

  constructor(private readonly options: ForwarderOptions) {}

  get size(): number {
    return this.inFlight.size;
  }

  forward(leader: NodeId, request: WriteRequest): Promise<unknown> {
    if (this.inFlight.size >= this.options.inFlightMax) {
      return Promise.reject(new RequestError('OVERLOADED', 'too many requests in flight to the leader', RETRY_AFTER_MS.busy));
    }
    const requestId = this.nextRequestId++;
    if (!this.options.send(leader, { t: 'forward', requestId, request })) {
      return Promise.reject(new RequestError('UNAVAILABLE', 'no link to the leader', RETRY_AFTER_MS.leaderChanged));
    }
    const waitMs = request.op === 'receive' ? request.waitMs : 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(requestId);
        reject(new RequestError('TIMEOUT', 'the leader did not answer in time; the outcome is unknown'));
      }, this.options.timeoutMs + waitMs);
      timer.unref();
      this.inFlight.set(requestId, { peer: leader, resolve, reject, timer });
      assert(this.inFlight.size <= this.options.inFlightMax, 'forwards in flight stay within their bound');
    });
  }

  /** Only the peer a request went to may answer it: any other answer is dropped unread. */
  onReply(from: NodeId, frame: Extract<PeerFrame, { t: 'forwardReply' }>): void {
    const entry = this.inFlight.get(frame.requestId);
    if (entry === undefined || entry.peer !== from) return;
    this.inFlight.delete(frame.requestId);
    clearTimeout(entry.timer);
    if (frame.ok) entry.resolve(frame.result);
    else entry.reject(fromErrorBody(frame.error));
  }

  /** The link to `peer` dropped, or it is no longer the leader: what was sent to it has an unknown outcome. */
  onLinkDown(peer: NodeId): void {
    for (const [requestId, entry] of this.inFlight) {
      if (entry.peer !== peer) continue;
      this.inFlight.delete(requestId);
      clearTimeout(entry.timer);
      entry.reject(new RequestError('UNAVAILABLE', 'the leader changed or the link to it dropped; the outcome is unknown', RETRY_AFTER_MS.leaderChanged));
    }
  }
}
