import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type ClientRequest, type ErrorCode, jsonTextShape, PEER_SOCKET_PATH, RequestError } from '../../shared/index.ts';
import type { HttpGuards } from '../access/index.ts';
import {
  configureRequest,
  enqueueRequest,
  peekRequest,
  promoteRequest,
  REQUEST_LIMITS,
  RETRY_AFTER_MS,
  receiveRequest,
  redriveRequest,
  settleRequest,
  toErrorBody,
  validQueueName,
} from '../requests/index.ts';
import type { ApiMetrics, BackupSource, ClientRequests, NodeHealth, PeerDirectory } from './api-parts.ts';
import { BACKUP_PATH, sendBackup } from './backup-route.ts';
import { serveDashboard } from './dashboard.ts';
import { FAULT_ADMIN_PREFIX, type FaultControls, handleFaultAdmin } from './fault-admin.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';

/** Nesting a JSON body may have: a message body's 64 levels (BODY_DEPTH_MAX), inside `{ messages: [ { body } ] }`. */
const JSON_NESTING_MAX = 68;
/** What a client gets for bytes that are not HTTP: the contract's error body, as for any 400. */
const MALFORMED_REQUEST_BODY = JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'the request is not well-formed HTTP' } });
const MALFORMED_REQUEST_ANSWER = `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(MALFORMED_REQUEST_BODY)}\r\nconnection: close\r\n\r\n${MALFORMED_REQUEST_BODY}`;
/** Values a JSON body may hold, as a WebSocket frame may (CLIENT_FRAME_VALUES_MAX): about 0.1 s of parsing at most. */
const JSON_VALUES_MAX = 1_000_000;

const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_QUEUE_NAME: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  QUEUE_FULL: 429,
  TOO_MANY_QUEUES: 429,
  FEATURE_NOT_ENABLED: 409,
  TOO_MANY_CONNECTIONS: 429,
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
/** A path parameter, percent-decoded; a malformed escape (`%E0%A4%A`) is a 400, not an exception. */
function decodedParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw new RequestError('BAD_REQUEST', 'a path parameter has a malformed percent-escape');
  }
}
const queueParam = (params: string[]) => validQueueName(decodedParam(params[0]!));

const ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^\/queues\/([^/]+)\/messages$/,
    hasBody: true,
    successStatus: () => 201,
    build: (p, _q, body) => enqueueRequest(queueParam(p), body),
  },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/redrive$/, hasBody: true, successStatus: ok, build: (p, _q, body) => redriveRequest(queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/promote$/, hasBody: true, successStatus: ok, build: (p, _q, body) => promoteRequest(queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/pause$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'pause', queue: queueParam(p) }) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/resume$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'resume', queue: queueParam(p) }) },
  {
    method: 'GET',
    pattern: /^\/queues\/([^/]+)\/messages$/,
    hasBody: false,
    successStatus: ok,
    build: (p, q) =>
      peekRequest(queueParam(p), { state: q.get('state') ?? undefined, limit: q.get('limit') ?? undefined, after: q.get('after') ?? undefined }, stale(q)),
  },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/receive$/, hasBody: true, successStatus: ok, build: (p, _q, body) => receiveRequest(queueParam(p), body) },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/ack$/, hasBody: true, successStatus: ok, build: (p, _q, body) => settleRequest('ack', queueParam(p), body) },
  {
    method: 'POST',
    pattern: /^\/queues\/([^/]+)\/nack$/,
    hasBody: true,
    successStatus: ok,
    build: (p, _q, body) => settleRequest('nack', queueParam(p), body),
  },
  {
    method: 'POST',
    pattern: /^\/queues\/([^/]+)\/extend$/,
    hasBody: true,
    successStatus: ok,
    build: (p, _q, body) => settleRequest('extend', queueParam(p), body),
  },
  { method: 'POST', pattern: /^\/queues\/([^/]+)\/purge$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'purge', queue: queueParam(p) }) },
  {
    method: 'GET',
    pattern: /^\/queues\/([^/]+)\/messages\/([^/]+)$/,
    hasBody: false,
    successStatus: ok,
    build: (p, q) => ({ op: 'getMessage', queue: queueParam(p), id: decodedParam(p[1]!), stale: stale(q) }),
  },
  {
    method: 'PUT',
    pattern: /^\/queues\/([^/]+)$/,
    hasBody: true,
    successStatus: (result) => ((result as { created?: boolean }).created ? 201 : 200),
    build: (p, _q, body) => configureRequest(queueParam(p), body),
  },
  {
    method: 'GET',
    pattern: /^\/queues\/([^/]+)$/,
    hasBody: false,
    successStatus: ok,
    build: (p, q) => ({ op: 'getQueue', queue: queueParam(p), stale: stale(q) }),
  },
  { method: 'DELETE', pattern: /^\/queues\/([^/]+)$/, hasBody: false, successStatus: ok, build: (p) => ({ op: 'delete', queue: queueParam(p) }) },
  { method: 'GET', pattern: /^\/queues$/, hasBody: false, successStatus: ok, build: (_p, q) => ({ op: 'listQueues', stale: stale(q) }) },
  { method: 'GET', pattern: /^\/cluster$/, hasBody: false, successStatus: ok, build: (_p, q) => ({ op: 'cluster', stale: stale(q) }) },
];

/** The HTTP/JSON contract of docs/http-api.md. Every failure is `{ error: { code, message } }`. */
export interface WebSocketEndpoint {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface HttpApiOptions {
  readonly requests: ClientRequests;
  readonly node: NodeHealth;
  readonly metrics: ApiMetrics;
  /** Present only on a node started with fault injection. */
  readonly faults: FaultControls | undefined;
  readonly peers: PeerDirectory;
  readonly backups: BackupSource;
  readonly guards: HttpGuards;
  /** Slowloris bounds: a request's headers, and the whole request, must arrive within these. */
  readonly headersTimeoutMs: number;
  readonly requestReceiveTimeoutMs: number;
  readonly log: Logger;
}

export class HttpApi {
  private readonly guards: HttpGuards;
  private readonly log: Logger;

  constructor(private readonly options: HttpApiOptions) {
    this.guards = options.guards;
    this.log = options.log;
  }

  /**
   * The node's one server: this API, and the WebSocket endpoints (peers, clients) that upgrade
   * from it by path; an upgrade to any other path is dropped. Over TLS, a client certificate is
   * asked for but not required here: peer links require one (`PeerTransport`), clients need none.
   */
  createServer(upgrades: ReadonlyMap<string, WebSocketEndpoint>): Server {
    const handle = (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response);
    const tls = this.guards.tls;
    const server: Server =
      tls === undefined
        ? createServer(handle)
        : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handle);
    server.headersTimeout = this.options.headersTimeoutMs;
    server.requestTimeout = this.options.requestReceiveTimeoutMs;
    server.on('connection', (socket: Socket) => this.guards.connections.admit(socket));
    // A client that breaks off its TLS handshake or sends bytes that are not HTTP: answer if the
    // socket still can, then close it; never an exception on the node.
    server.on('clientError', (_error: Error, socket: Duplex) => {
      if (socket.writable) socket.end(MALFORMED_REQUEST_ANSWER);
      else socket.destroy();
    });
    if (tls !== undefined) server.on('tlsClientError', (_error: Error, socket: Duplex) => socket.destroy());
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? '').split('?')[0]!;
      const endpoint = upgrades.get(path);
      const refusal = path === PEER_SOCKET_PATH ? this.guards.browser.checkPeerUpgrade(request.headers) : this.guards.browser.check(request.headers);
      if (endpoint === undefined) socket.destroy();
      else if (refusal !== undefined) {
        this.guards.access.noteRefusal(request.socket.remoteAddress ?? 'unknown', 'FORBIDDEN', refusal);
        refuseUpgrade(socket, 403, 'FORBIDDEN', refusal);
      } else endpoint.handleUpgrade(request, socket, head);
    });
    return server;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = request.method ?? 'GET';
    const remote = request.socket.remoteAddress ?? 'unknown';
    let op = 'unknown';
    let path = '';
    try {
      const target = targetOf(request.url);
      path = target.pathname;
      // Readiness (`/health`, and `/readyz` by the probe conventions): may this node take traffic now.
      if (method === 'GET' && (path === '/health' || path === '/readyz')) {
        const health = this.options.node.health();
        sendJson(response, health.ok ? 200 : 503, { status: health.ok ? 'ok' : 'unavailable', reason: health.reason });
        return;
      }
      // Liveness: the process answers. Never 503 for an election, a recovery or a full disk, which a
      // liveness probe would answer with a restart that helps none of them.
      if (method === 'GET' && path === '/livez') {
        sendJson(response, 200, { status: 'ok' });
        return;
      }
      const refusal = this.guards.browser.check(request.headers);
      if (refusal !== undefined) {
        this.guards.access.noteRefusal(remote, 'FORBIDDEN', refusal);
        throw new RequestError('FORBIDDEN', refusal);
      }
      // The dashboard's files hold no data; the data they fetch is asked for with a token.
      if (method === 'GET' && serveDashboard(path, response)) return;
      const caller = this.guards.access.authenticate(headerOf(request, 'authorization'), remote);
      if (method === 'GET' && path === '/metrics') {
        op = 'metrics';
        this.guards.access.authorizeNode(caller, 'read', 'metrics');
        const text = await this.options.metrics.registry.metrics();
        response.writeHead(200, { 'content-type': this.options.metrics.registry.contentType });
        response.end(text);
        return;
      }
      if (path === BACKUP_PATH) {
        op = 'backup';
        if (method !== 'GET') throw new RequestError('BAD_REQUEST', `${method} is not allowed on ${path}`);
        this.guards.access.authorizeNode(caller, 'admin', `${method} ${path}`);
        await this.options.backups.backup((backup) => sendBackup(response, backup));
        this.options.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
        return;
      }
      const faults = path.startsWith(FAULT_ADMIN_PREFIX) ? this.options.faults : undefined;
      if (faults !== undefined) {
        op = 'faults';
        this.guards.access.authorizeNode(caller, 'admin', `${method} ${path}`);
        const body = method === 'POST' ? await this.readJson(request) : undefined;
        sendJson(response, 200, handleFaultAdmin(method, path, body ?? {}, faults, this.options.peers.peers()));
        return;
      }
      const { route, params } = this.match(method, path);
      const body = route.hasBody ? await this.readJson(request) : undefined;
      const clientRequest = route.build(params, target.searchParams, body);
      op = clientRequest.op;
      this.guards.access.authorize(caller, clientRequest);
      const result = await this.options.requests.dispatch(clientRequest);
      const shaped = clientRequest.op === 'configure' ? shapeConfigured(result) : this.guards.access.visibleResult(caller, clientRequest, result);
      sendJson(response, route.successStatus(result), shaped);
      this.options.metrics.observe(op, 'OK', (performance.now() - started) / 1000);
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'INTERNAL') this.log.error({ err: error, path }, 'request failed');
      const headers: Record<string, string> = {};
      if (body.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(body.retryAfterMs / 1000)));
      if (body.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="quorumq"';
      if (!response.headersSent) sendJson(response, STATUS_OF[body.code], { error: { code: body.code, message: body.message } }, headers);
      else response.destroy();
      this.options.metrics.observe(op, body.code, (performance.now() - started) / 1000);
    }
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
    throw new RequestError('NOT_FOUND', `no route ${method} ${path.slice(0, 200)}`);
  }

  /**
   * Reads a JSON body, refusing it as soon as it passes the size limit or the node's budget for
   * bodies in flight rather than after, and refusing nesting deeper than a message body may have
   * before `JSON.parse` builds anything. A refused body is read on and thrown away (it no longer
   * costs memory), so that the client, still sending, gets the answer rather than a reset
   * connection; the request timeout bounds how long that may take.
   */
  private readJson(request: IncomingMessage): Promise<unknown> {
    const limit = REQUEST_LIMITS.requestBytesMax;
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > limit) {
      request.resume();
      return Promise.reject(new RequestError('TOO_LARGE', `the request body is ${declared} bytes; the limit is ${limit}`));
    }
    const budget = this.guards.bodies;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      const refuse = (error: RequestError) => {
        refused = true;
        budget.giveBack(size);
        chunks.length = 0;
        reject(error);
      };
      request.on('data', (chunk: Buffer) => {
        if (refused) return;
        if (size + chunk.length > limit) refuse(new RequestError('TOO_LARGE', `the request body exceeds ${limit} bytes`));
        else if (!budget.take(chunk.length))
          refuse(
            new RequestError('OVERLOADED', `this node holds ${budget.bytesMax} bytes of request bodies in flight; retry shortly`, RETRY_AFTER_MS.bodyBudget),
          );
        else {
          size += chunk.length;
          chunks.push(chunk);
        }
      });
      request.once('error', (error) => {
        if (!refused) refuse(new RequestError('BAD_REQUEST', `the request body could not be read: ${error.message}`));
      });
      request.once('close', () => {
        if (!refused && !request.complete) refuse(new RequestError('BAD_REQUEST', 'the client closed the connection before its body was complete'));
      });
      request.once('end', () => {
        if (refused) return;
        budget.giveBack(size);
        if (size === 0) {
          resolve(undefined);
          return;
        }
        const text = Buffer.concat(chunks, size).toString('utf8');
        const shape = jsonTextShape(text, JSON_NESTING_MAX, JSON_VALUES_MAX);
        if (shape !== 'ok') {
          reject(
            new RequestError(
              'BAD_REQUEST',
              shape === 'tooDeep' ? `the body nests deeper than ${JSON_NESTING_MAX} levels` : `the body holds more than ${JSON_VALUES_MAX} values`,
            ),
          );
          return;
        }
        try {
          resolve(JSON.parse(text) as unknown);
        } catch {
          reject(new RequestError('BAD_REQUEST', 'the body is not valid JSON'));
        }
      });
    });
  }
}

/**
 * A request target as a URL, percent-escapes left as they are (routes decode their own
 * parameters). A target that is not a path (`//[`, `*`, an absolute URL) is a 400, never an
 * exception out of the server.
 */
function targetOf(target: string | undefined): URL {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) throw new RequestError('BAD_REQUEST', 'the request target must be a path');
  try {
    return new URL(`http://node${target}`);
  } catch {
    throw new RequestError('BAD_REQUEST', 'the request target is not a valid path');
  }
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? undefined : value;
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
