import type { Socket } from 'node:net';
import { assert } from '../../shared/index.ts';

export interface ConnectionLimitOptions {
  readonly connectionsMax: number;
  readonly connectionsPerAddressMax: number;
  /** A connection refused, with why: for the audit log. */
  readonly onRefused: (remote: string, reason: string) => void;
}

/**
 * Connections to the node's one port (clients, peers, HTTP alike), in all and per remote address.
 * A connection past either limit is closed as it arrives, before it costs a TLS handshake or a
 * parser: file descriptors and sockets are what a flood of connections exhausts first.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  refused = 0;

  constructor(private readonly options: ConnectionLimitOptions) {}

  get open(): number {
    return this.total;
  }

  /** Counts `socket` in, or destroys it when it would pass a limit. */
  admit(socket: Socket): void {
    const remote = socket.remoteAddress ?? 'unknown';
    const fromRemote = this.byAddress.get(remote) ?? 0;
    const reason =
      this.total >= this.options.connectionsMax
        ? `the node holds its limit of ${this.options.connectionsMax} connections`
        : fromRemote >= this.options.connectionsPerAddressMax
          ? `${remote} holds its limit of ${this.options.connectionsPerAddressMax} connections`
          : undefined;
    if (reason !== undefined) {
      this.refused++;
      this.options.onRefused(remote, reason);
      socket.destroy();
      return;
    }
    this.total++;
    this.byAddress.set(remote, fromRemote + 1);
    socket.once('close', () => {
      this.total--;
      const left = (this.byAddress.get(remote) ?? 0) - 1;
      // Each socket counted in once is counted out once, when it closes.
      assert(this.total >= 0 && left >= 0, 'a connection was counted out without being counted in');
      if (left === 0) this.byAddress.delete(remote);
      else this.byAddress.set(remote, left);
    });
  }
}
