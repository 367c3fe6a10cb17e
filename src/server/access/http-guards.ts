import type { Logger } from 'pino';
import type { PeerTls } from '../../transport/index.ts';
import type { AccessPolicy } from './access-policy.ts';
import { BodyBudget } from './body-budget.ts';
import { BrowserGuard } from './browser-guard.ts';
import { ClientAccess } from './client-access.ts';
import { ConnectionLimits } from './connection-limits.ts';

/** What the node's server needs beyond the request path: who may talk to it, and how much. */
export interface HttpGuards {
  readonly access: ClientAccess;
  readonly browser: BrowserGuard;
  readonly bodies: BodyBudget;
  readonly connections: ConnectionLimits;
  /** With TLS the listener speaks HTTPS (and WSS); peers present certificates of the same CA. */
  readonly tls: PeerTls | undefined;
}

/** What a node's options say about its edge (see `NodeOptions`). */
export interface HttpGuardsOptions {
  readonly host: string;
  readonly advertiseHost: string;
  readonly port: number;
  readonly allowedHosts: readonly string[];
  readonly requestBufferBytesMax: number;
  readonly connectionsMax: number;
  readonly connectionsPerAddressMax: number;
}

export type RefusalKind = 'unauthorized' | 'forbidden' | 'connection';

/** The guards of one node, from its options and security files; `onRefusal` counts what they turn away. */
export function createHttpGuards(
  options: HttpGuardsOptions,
  security: { readonly accessPolicy: AccessPolicy | undefined; readonly peerTls: PeerTls | undefined },
  audit: Logger,
  onRefusal: (kind: RefusalKind) => void,
): HttpGuards {
  const access = new ClientAccess(security.accessPolicy, audit, (code) =>
    onRefusal(code === 'UNAUTHORIZED' ? 'unauthorized' : code === 'FORBIDDEN' ? 'forbidden' : 'connection'),
  );
  return {
    access,
    browser: new BrowserGuard({ port: options.port, allowedHosts: [options.host, options.advertiseHost, ...options.allowedHosts] }),
    bodies: new BodyBudget(options.requestBufferBytesMax),
    connections: new ConnectionLimits({
      connectionsMax: options.connectionsMax,
      connectionsPerAddressMax: options.connectionsPerAddressMax,
      onRefused: (remote, reason) => access.noteRefusal(remote, 'TOO_MANY_CONNECTIONS', reason),
    }),
    tls: security.peerTls,
  };
}
