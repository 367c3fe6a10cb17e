import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type ClientRequest, type ErrorCode, RequestError } from '../shared/index.ts';
import { serveDashboard } from './dashboard.ts';
import { FAULT_ADMIN_PREFIX, handleFaultAdmin } from './fault-admin.ts';
import { toErrorBody } from './forwarder.ts';
import type { NodeOptions } from './node-options.ts';
import type { RequestHandler } from './quorum-node.ts';
import { dispatch } from './request-dispatch.ts';
import {
  configureRequest,
  enqueueRequest,
  receiveRequest,
  REQUEST_LIMITS,
  settleRequest,
  validQueueName,
} from './request-validation.ts';

const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_QUEUE_NAME: 400,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  QUEUE_FULL: 429,
  TOO_MANY_QUEUES: 429,
  NO_LEADER: 503,
  UNAVAILABLE: 503,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** Builds the request from path parameters, the query and the parsed body. */
  readonly build: (params: string[], query: URLSearchParams, body: unknown) => ClientRequest;
  readonly hasBody: boolean;
  readonly successStatus: (result: unknown) => number;
}

const ok = () => 200;
const stale = (query: URLSearchParams) => query.get('stale') === '1' || query.get('stale') === 'true';
const queueParam = (params: string[]) => validQueueName(decodeURIComponent(params[0]!));

const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/messages$/, hasBody: true, successStatus: () => 201, build: (p, _q, body) => enqueueRequest(queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/receive$/, hasBody: true, successStatus: ok, build: (p, _q, body) => receiveRequest(queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/ack$/, hasBody: true, successStatus: ok, build: (p, _q, body) => settleRequest('ack', queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/nack$/, hasBody: true, successStatus: ok, build: (p, _q, body) => settleRequest('nack', queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/extend$/, hasBody: true, successStatus: ok, build: (p, _q, body) => settleRequest('extend', queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/purge$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'purge', queue: queueParam(p) }) },
  {
    method: 'GET',
    pattern: /^\/queues\/([^/]+)\/messages\/([^/]+)$/,
    hasBody: false,
    successStatus: ok,
    build: (p, q) => ({ op: 'getMessage', queue: queueParam(p), id: decodeURIComponent(p[1]!), stale: stale(q) }),
  },
  {
    method: 'PUT',
    pattern: /^\/queues\/([^/]+)$/,
    hasBody: true,
    successStatus: (result) => ((result as { created?: boolean }).created ? 201 : 200),
    build: (p, _q, body) => configureRequest(queueParam(p), body),
  },
  { method: 'GET', pattern: /^\/queues\/([^/]+)$/, hasBody: false, successStatus: ok, build: (p, q) => ({ op: 'getQueue', queue: queueParam(p), stale: stale(q) }) },
  { method: 'DELETE', pattern: /^\/queues\/([^/]+)$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'delete', queue: queueParam(p) }) },
  { method: 'GET', pattern: /^\/queues$/, hasBody: false, successStatus: ok, build: (_p, q) => ({ op: 'listQueues', stale: stale(q) }) },
  { method: 'GET', pattern: /^\/cluster$/, hasBody: false, successStatus: ok, build: (_p, q) => ({ op: 'cluster', stale: stale(q) }) },
];

/** The HTTP/JSON contract of HTTP-API.md. Every failure is `{ error: { code, message } }`. */
export interface WebSocketEndpoint {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export class HttpApi {
  constructor(
    private readonly handler: RequestHandler,
    private readonly options: NodeOptions,
    private readonly log: Logger,
  ) {}

  /**
   * The node's one HTTP server: this API, and the WebSocket endpoints (peers, clients) that
   * upgrade from it by path; an upgrade to any other path is dropped.
   */
  createServer(upgrades: ReadonlyMap<string, WebSocketEndpoint>): Server {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const endpoint = upgrades.get((request.url ?? '').split('?')[0]!);
      if (endpoint === undefined) socket.destroy();
      else endpoint.handleUpgrade(request, socket, head);
    });
    return server;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://node');
    let op = 'unknown';
    try {
      if (await this.handleOperational(request.method ?? 'GET', url.pathname, response)) return;
      const faults = url.pathname.startsWith(FAULT_ADMIN_PREFIX) ? this.handler.faultControls : undefined;
      if (faults !== undefined) {
        op = 'faults';
        const body = request.method === 'POST' ? await readJson(request) : undefined;
        sendJson(response, 200, handleFaultAdmin(request.method ?? 'GET', url.pathname, body ?? {}, faults, this.handler.peers()));
        return;
      }
      const { route, params } = this.match(request.method ?? 'GET', url.pathname);
      const body = route.hasBody ? await readJson(request) : undefined;
      const clientRequest = route.build(params, url.searchParams, body);
      op = clientRequest.op;
      const result = await dispatch(this.handler, clientRequest);
      const shaped = clientRequest.op === 'configure' ? shapeConfigured(result) : result;
      sendJson(response, route.successStatus(result), shaped);
      this.handler.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'INTERNAL') this.log.error({ err: error, path: url.pathname }, 'request failed');
      const headers: Record<string, string> = {};
      if (body.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(body.retryAfterMs / 1000)));
      sendJson(response, STATUS_OF[body.code], { error: { code: body.code, message: body.message } }, headers);
      this.handler.metrics.observe(op, body.code, (performance.now() - started) / 1000);
    }
  }

  private async handleOperational(method: string, path: string, response: ServerResponse): Promise<boolean> {
    if (method !== 'GET') return false;
    if (path === '/health') {
      const health = this.handler.health();
      sendJson(response, health.ok ? 200 : 503, { status: health.ok ? 'ok' : 'unavailable', reason: health.reason });
      return true;
    }
    if (path === '/metrics') {
      const text = await this.handler.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': this.handler.metrics.registry.contentType });
      response.end(text);
      return true;
    }
    return serveDashboard(path, response);
  }

  private match(method: string, path: string): { route: Route; params: string[] } {
    let pathMatched = false;
    for (const route of ROUTES) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      pathMatched = true;
      if (route.method === method) return { route, params: match.slice(1) };
    }
    if (pathMatched) throw new RequestError('BAD_REQUEST', `${method} is not allowed on ${path}`);
    throw new RequestError('NOT_FOUND', `no route ${method} ${path}`);
  }
}

/** Reads a JSON body, refusing it as soon as it passes the size limit rather than after. */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const limit = REQUEST_LIMITS.requestBytesMax;
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limit) {
    request.resume();
    throw new RequestError('TOO_LARGE', `the request body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.destroy();
      throw new RequestError('TOO_LARGE', `the request body exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new RequestError('BAD_REQUEST', 'the body is not valid JSON');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** `PUT /queues/:q` answers with the whole config at the top level (and under `config`). */
function shapeConfigured(result: unknown): unknown {
  const configured = result as { name: string; created: boolean; config: Record<string, unknown> };
  return { name: configured.name, ...configured.config, config: configured.config, created: configured.created };
}
