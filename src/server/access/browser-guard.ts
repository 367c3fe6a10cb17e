/**
 * Keeps web pages from driving the node through a visitor's browser. A browser will send requests
 * anywhere a page asks, to 127.0.0.1 included, so a node that trusts "the request came from this
 * machine" can be driven by any site its operator visits. Two attacks, two checks:
 *
 * - A page on another site calls us directly: its browser names that site in `Origin` (and says
 *   `Sec-Fetch-Site: cross-site`), so anything but this node's own origin is refused.
 * - DNS rebinding: a page on evil.example has its name re-pointed at 127.0.0.1, so its calls are
 *   same-origin for the browser and carry no telltale `Origin`. But they carry `Host: evil.example`,
 *   so only names we know are ours are served.
 *
 * curl and server-side clients send neither `Origin` nor a rebound `Host` and pass untouched.
 * Every header is untrusted text: lengths are bounded, nothing here throws, and a reason only
 * ever repeats a name after it has passed the strict host-name character check.
 */
import { BlockList, isIP } from 'node:net';
import { assert, ClusterError } from '../../shared/index.ts';

export const BROWSER_GUARD_LIMITS = {
  /** A Host, Origin or Sec-Fetch-Site value; a real one is a host name and a port, far shorter. */
  headerLengthMax: 512,
} as const;

export interface BrowserGuardOptions {
  /** The port this node listens on, as browsers see it. */
  readonly port: number;
  /** Names (or addresses) that reach this node: its --host, its --advertise-host and operator-configured names. */
  readonly allowedHosts: readonly string[];
}

type HeaderValue = string | readonly string[] | undefined;

/** The headers looked at; Node's `IncomingMessage.headers` fits as is. */
export interface BrowserRequestHeaders {
  readonly host?: HeaderValue;
  readonly origin?: HeaderValue;
  readonly 'sec-fetch-site'?: HeaderValue;
}

// Lowercase letters, digits, dots, hyphens, and underscores (which some container networks use).
// Anything else (percent-escapes, userinfo, spaces, Unicode) is no name we could have been given.
const HOST_NAME_PATTERN = /^[a-z0-9._-]+$/;
const PORT_PATTERN = /^[0-9]{1,5}$/;
const PORT_MAX = 65535;
const DEFAULT_PORTS: ReadonlyMap<string, number> = new Map([
  ['http:', 80],
  ['https:', 443],
]);

/** Loopback addresses: a page served from one of these at our port is served by us. */
const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

interface Authority {
  /** Lowercase, without a trailing dot, without IPv6 brackets. */
  readonly hostname: string;
  readonly port: number | undefined;
}

/** Decides whether a request that may come from a browser is allowed. */
export class BrowserGuard {
  private readonly port: number;
  /** Normalized names and addresses from the options. */
  private readonly allowedHosts: ReadonlySet<string>;

  constructor(options: BrowserGuardOptions) {
    assert(Number.isInteger(options.port), 'the port is an integer');
    assert(options.port >= 1 && options.port <= PORT_MAX, 'the port is a listening port, 1..65535');
    const allowedHosts = new Set<string>();
    const malformed: string[] = [];
    for (const host of options.allowedHosts) {
      const hostname = normalizedHostname(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
      if (isIP(hostname) === 0 && !HOST_NAME_PATTERN.test(hostname)) malformed.push(JSON.stringify(host));
      else allowedHosts.add(hostname);
    }
    if (malformed.length > 0) throw new ClusterError('INVALID_CONFIG', `allowed hosts must be host names or IP addresses: ${malformed.join(', ')}`);
    this.port = options.port;
    this.allowedHosts = allowedHosts;
  }

  /** Undefined when the request may go on; else why it is refused, for a 403 FORBIDDEN. */
  check(headers: BrowserRequestHeaders): string | undefined {
    const fetchSite = headers['sec-fetch-site'];
    const hostHeader = headers.host;
    const originHeader = headers.origin;
    const fetchSiteRefusal = this.fetchSiteRefusal(fetchSite);
    if (fetchSiteRefusal !== undefined) return fetchSiteRefusal;
    // Absent Host: HTTP/1.0 tools omit it, and browsers always send it, so no browser is let through.
    let host: Authority | undefined;
    if (hostHeader !== undefined) {
      if (!isBoundedText(hostHeader)) return 'the Host header must be one value of at most 512 characters';
      host = hostAuthority(hostHeader);
      if (host === undefined) return 'the Host header is not host[:port]';
      const refusal = this.hostRefusal(host.hostname);
      if (refusal !== undefined) return refusal;
    }
    // Absent Origin: curl and server-side clients; a browser sends one on every request that could change something.
    if (originHeader === undefined) return undefined;
    if (!isBoundedText(originHeader)) return 'the Origin header must be one value of at most 512 characters';
    return this.originRefusal(originHeader, host);
  }

  /**
   * Peer links come from nodes, never from browsers: any sign of a browser (an `Origin`, a
   * `Sec-Fetch-Site`) is refused. The Host is not checked here, because nodes dial each other by
   * whatever names their seeds and gossip give (a service name, an address), and a peer proves
   * who it is in the handshake, not by the name it used.
   */
  checkPeerUpgrade(headers: BrowserRequestHeaders): string | undefined {
    if (headers.origin !== undefined || headers['sec-fetch-site'] !== undefined) return 'a peer link was asked for by a browser';
    return undefined;
  }

  private fetchSiteRefusal(fetchSite: unknown): string | undefined {
    if (fetchSite === undefined) return undefined;
    if (!isBoundedText(fetchSite)) return 'the Sec-Fetch-Site header must be one value of at most 512 characters';
    // The browser's own verdict; it cannot be forged by a page, and it catches what an Origin check might miss.
    const values = fetchSite.split(',').map((value) => value.trim().toLowerCase());
    if (values.includes('cross-site')) return 'cross-site requests are refused (Sec-Fetch-Site: cross-site)';
    return undefined;
  }

  /**
   * The Host rule. An IP address is always allowed: rebinding needs a name that the attacker's DNS
   * points at us, and a browser that was given an address went to that address, which is ours.
   * `localhost` and `*.localhost` are loopback names that browsers resolve themselves, never via
   * DNS (RFC 6761), so no attacker can re-point them. Any other name must be one we were told.
   */
  private hostRefusal(hostname: string): string | undefined {
    if (isIP(hostname) !== 0) return undefined;
    if (!HOST_NAME_PATTERN.test(hostname)) return 'the Host header does not hold a host name';
    if (isLocalhostName(hostname)) return undefined;
    if (this.allowedHosts.has(hostname)) return undefined;
    return `the host name ${hostname} is not served here (only IP addresses, localhost and this node's configured names are)`;
  }

  /**
   * An Origin is allowed when it is this node's own origin: the very origin the request was sent
   * to (the Host), or a loopback or configured name or address at this node's port. Looser
   * rules would let other pages in: any IP address at our port could be another machine serving
   * a hostile page, and localhost at another port is another program (a dev server on :8080 must
   * not drive a node on :7001).
   */
  private originRefusal(originHeader: string, host: Authority | undefined): string | undefined {
    // Browsers send "null" from sandboxed frames, file: pages and some redirects: no site to trust.
    if (originHeader === 'null') return 'requests with Origin: null are refused';
    const origin = originAuthority(originHeader);
    if (origin === undefined) return 'the Origin header is not an http or https origin';
    if (host !== undefined && host.hostname === origin.hostname && (host.port ?? origin.defaultPort) === origin.port) return undefined;
    if (!this.designatesThisNode(origin.hostname)) {
      if (!HOST_NAME_PATTERN.test(origin.hostname) && isIP(origin.hostname) === 0) return 'the Origin header does not hold a host name';
      return `requests from ${origin.hostname} are refused: it is another site`;
    }
    if (origin.port !== this.port) return `requests from ${origin.hostname}:${origin.port} are refused: it is another site than port ${this.port}`;
    return undefined;
  }

  private designatesThisNode(hostname: string): boolean {
    const family = isIP(hostname);
    if (family === 4) return LOOPBACK_ADDRESSES.check(hostname, 'ipv4') || this.allowedHosts.has(hostname);
    if (family === 6) return LOOPBACK_ADDRESSES.check(hostname, 'ipv6') || this.allowedHosts.has(hostname);
    if (!HOST_NAME_PATTERN.test(hostname)) return false;
    return isLocalhostName(hostname) || this.allowedHosts.has(hostname);
  }
}

function isBoundedText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= BROWSER_GUARD_LIMITS.headerLengthMax;
}

function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/** Lowercase and without the one trailing dot that makes a name fully qualified but no different. */
function normalizedHostname(hostname: string): string {
  const lowercase = hostname.toLowerCase();
  return lowercase.endsWith('.') ? lowercase.slice(0, -1) : lowercase;
}

/** Splits `host[:port]`, `[v6]` or `[v6]:port`; undefined when malformed. */
function hostAuthority(value: string): Authority | undefined {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    const address = value.slice(1, close);
    if (isIP(address) !== 6) return undefined;
    const rest = value.slice(close + 1);
    if (rest === '') return { hostname: address.toLowerCase(), port: undefined };
    const port = rest.startsWith(':') ? portNumber(rest.slice(1)) : undefined;
    return port === undefined ? undefined : { hostname: address.toLowerCase(), port };
  }
  const colon = value.indexOf(':');
  // More than one colon is an IPv6 address without its brackets, which a Host may not hold.
  if (colon !== value.lastIndexOf(':')) return undefined;
  const hostname = normalizedHostname(colon === -1 ? value : value.slice(0, colon));
  if (hostname === '') return undefined;
  if (colon === -1) return { hostname, port: undefined };
  const port = portNumber(value.slice(colon + 1));
  return port === undefined ? undefined : { hostname, port };
}

function portNumber(text: string): number | undefined {
  if (!PORT_PATTERN.test(text)) return undefined;
  const port = Number(text);
  return port <= PORT_MAX ? port : undefined;
}

/** An http(s) origin's host and effective port; undefined for anything else. */
function originAuthority(value: string): (Authority & { readonly port: number; readonly defaultPort: number }) | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  const defaultPort = DEFAULT_PORTS.get(url.protocol);
  if (defaultPort === undefined) return undefined;
  // An Origin is scheme://host[:port] and nothing more; anything more was not sent by a browser.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined;
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const hostname = normalizedHostname(bracketed ? url.hostname.slice(1, -1) : url.hostname);
  if (hostname === '') return undefined;
  const port = url.port === '' ? defaultPort : Number(url.port);
  return { hostname, port, defaultPort };
}
