import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** How scripts and tests reach a node's HTTP API: its scheme, the CA that signed it, a token. */
export interface NodeAccess {
  /** The CA certificate of a cluster started with TLS: requests go over HTTPS, checked against it. */
  readonly ca?: Buffer;
  /** Sent as `Authorization: Bearer <token>` to a cluster started with an auth file. */
  readonly token?: string;
}

export interface NodeReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface NodeRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
}

/** The base URL of a node at `address` (`host:port`). */
export function nodeUrl(address: string, access: NodeAccess = {}): string {
  return `${access.ca === undefined ? 'http' : 'https'}://${address}`;
}

/**
 * One HTTP(S) request to a node, on `node:http`/`node:https` rather than `fetch`: Node's fetch takes
 * no CA of its own, and a test cluster's throwaway CA must not be trusted process-wide.
 */
export function nodeRequest(address: string, path: string, access: NodeAccess = {}, options: NodeRequestOptions = {}): Promise<NodeReply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (access.token !== undefined && headers.authorization === undefined) headers.authorization = `Bearer ${access.token}`;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const settings = { host, port, path, method: options.method ?? 'GET', headers, timeout: options.timeoutMs ?? 30_000 };
    const request = access.ca === undefined ? httpRequest(settings) : httpsRequest({ ...settings, ca: access.ca });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${address}${path} within ${settings.timeout} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(address.slice(colon + 1))];
}
