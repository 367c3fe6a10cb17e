import { isIPv4, isIPv6 } from 'node:net';

/** DNS names: labels of letters, digits and hyphens, 253 characters in all (RFC 1123). */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * True for `host:port` with a DNS name or IPv4 host, or `[v6]:port`, and a port of 1..65535.
 * Addresses come from peers (hello frames, gossip) and this node dials them: one it could not
 * dial, or that makes the WebSocket library throw (a port of 99999 does), never gets that far.
 */
export function isPeerAddress(address: unknown): boolean {
  if (typeof address !== 'string' || address.length > 270) return false;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(port)) return false;
  const portNumber = Number(port);
  if (portNumber < 1 || portNumber > 65535) return false;
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1));
  return isIPv4(host) || HOSTNAME.test(host);
}
