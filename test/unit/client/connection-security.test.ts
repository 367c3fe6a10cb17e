import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeTestCertificates } from '../../../cluster/tls-certs.ts';
import { connect, type QuorumqClient, QuorumqError } from '../../../src/client/index.ts';
import { decode, encode } from '../../../src/shared/codec.ts';
import type { ClientFrame, ErrorBody } from '../../../src/shared/index.ts';

// Goal: the SDK reaches a node that wants TLS and a bearer token: it dials wss:// and trusts the
// cluster's CA, sends its token on the upgrade, and hears a refusal (401/403, or an error reply
// with either code) as a final answer at once, not as a node to fail over from for the whole
// retry budget. A certificate it cannot trust fails with words that say so.
const GOOD_TOKEN = 'jobs-app.s3cret';
const READ_ONLY_TOKEN = 'reader.s3cret';

/** A node's WebSocket endpoint over HTTPS that checks the upgrade's token as a node with an auth file does. */
class SecureFakeNode {
  readonly upgrades: (string | undefined)[] = [];
  readonly frames: ClientFrame[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly answer: (frame: ClientFrame) => unknown,
  ) {
    const webSockets = new WebSocketServer({ noServer: true });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const authorization = request.headers.authorization;
      this.upgrades.push(authorization);
      if (authorization === `Bearer ${READ_ONLY_TOKEN}`)
        return refuse(socket, 403, { code: 'FORBIDDEN', message: 'this token may not use the WebSocket protocol' });
      if (authorization !== `Bearer ${GOOD_TOKEN}`) return refuse(socket, 401, { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' });
      webSockets.handleUpgrade(request, socket, head, (webSocket) => {
        webSocket.on('message', (data: Buffer) => {
          const frame = decode(data) as ClientFrame;
          this.frames.push(frame);
          const answer = this.answer(frame);
          const reply = answer instanceof Refusal ? { id: frame.id, ok: false, error: answer.error } : { id: frame.id, ok: true, result: answer };
          webSocket.send(encode(reply));
        });
      });
    });
  }

  static async start(certificates: { cert: Buffer; key: Buffer }, answer: (frame: ClientFrame) => unknown): Promise<SecureFakeNode> {
    const server = createServer({ cert: certificates.cert, key: certificates.key });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new SecureFakeNode(server, answer);
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class Refusal {
  constructor(readonly error: ErrorBody) {}
}

/** Answers the way a node refuses an upgrade: a status and a JSON error body, then the connection ends. */
function refuse(socket: Socket, status: 401 | 403, error: ErrorBody): void {
  const body = JSON.stringify({ error });
  const reason = status === 401 ? 'Unauthorized' : 'Forbidden';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A leader that accepts every enqueue and reports an empty queue. */
function leader(frame: ClientFrame): unknown {
  if (frame.op === 'cluster') return { self: { role: 'leader' }, leader: null };
  if (frame.op === 'enqueue') return { ids: frame.messages.map((_, index) => String(index + 1)), seqs: frame.messages.map((_, index) => index + 1) };
  if (frame.op === 'getQueue') return { name: frame.queue, depth: 0 };
  return {};
}

describe('the SDK against a node with TLS and tokens', () => {
  let certificateDir: string;
  let ca: Buffer;
  let nodeCertificate: { cert: Buffer; key: Buffer };
  let node: SecureFakeNode | undefined;
  let client: QuorumqClient | undefined;

  beforeAll(async () => {
    certificateDir = await mkdtemp(join(tmpdir(), 'quorumq-connection-security-'));
    const certificates = await makeTestCertificates(certificateDir);
    const [caPem, cert, key] = await Promise.all([certificates.caFile, certificates.certFile, certificates.keyFile].map((file) => readFile(file)));
    ca = caPem!;
    nodeCertificate = { cert: cert!, key: key! };
  });

  afterAll(async () => {
    await rm(certificateDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await node?.stop();
    node = undefined;
  });

  it('connects over wss:// with the token and the cluster CA, and gets its answers', async () => {
    node = await SecureFakeNode.start(nodeCertificate, leader);
    client = connect({ nodes: [node.address], token: GOOD_TOKEN, tls: { ca }, retryForMs: 5000, requestTimeoutMs: 2000 });

    expect(await client.getQueue('jobs')).toEqual({ name: 'jobs', depth: 0 });
    expect(await client.enqueue('jobs', { task: 'resize' })).toEqual({ id: '1', seq: 1 });
    expect(node.upgrades).toEqual([`Bearer ${GOOD_TOKEN}`]);
  });

  it('fails at once with a final UNAUTHORIZED when the node refuses the token', async () => {
    node = await SecureFakeNode.start(nodeCertificate, leader);
    client = connect({ nodes: [node.address, node.address], token: 'not-the-token', tls: { ca }, retryForMs: 10_000, requestTimeoutMs: 2000 });
    const startedMs = Date.now();

    const failure = await client.enqueue('jobs', 'a').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(QuorumqError);
    expect(failure).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect((failure as Error).message).toMatch(/401.*a valid bearer token is required/);
    expect(Date.now() - startedMs).toBeLessThan(2000);
    expect(node.upgrades).toEqual(['Bearer not-the-token']);
  });

  it('says that a token is wanted when it was given none', async () => {
    node = await SecureFakeNode.start(nodeCertificate, leader);
    client = connect({ nodes: [node.address], tls: { ca }, retryForMs: 10_000 });

    await expect(client.getQueue('jobs')).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/wants a token/) });
    expect(node.upgrades).toEqual([undefined]);
  });

  it('fails at once with a final FORBIDDEN when the node refuses what the token may do', async () => {
    node = await SecureFakeNode.start(nodeCertificate, leader);
    client = connect({ nodes: [node.address], token: READ_ONLY_TOKEN, tls: { ca }, retryForMs: 10_000 });

    await expect(client.getQueue('jobs')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(node.upgrades).toHaveLength(1);
  });

  it('takes an UNAUTHORIZED or FORBIDDEN error reply as final, without sending the request again', async () => {
    node = await SecureFakeNode.start(nodeCertificate, (frame) =>
      frame.op === 'enqueue' ? new Refusal({ code: 'FORBIDDEN', message: 'may not produce to jobs' }) : leader(frame),
    );
    client = connect({ nodes: [node.address], token: GOOD_TOKEN, tls: { ca }, retryForMs: 10_000 });

    await expect(client.enqueue('jobs', 'a')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(node.frames.filter((frame) => frame.op === 'enqueue')).toHaveLength(1);
  });

  it('refuses a node whose certificate it cannot trust, and says to give the CA', async () => {
    node = await SecureFakeNode.start(nodeCertificate, leader);
    client = connect({ nodes: [node.address], token: GOOD_TOKEN, tls: {}, retryForMs: 300, requestTimeoutMs: 1000 });

    const failure = await client.getQueue('jobs').catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 'UNAVAILABLE' });
    expect((failure as Error).message).toMatch(/TLS certificate is not trusted.*tls\.ca/);
    // The token never left the client: the TLS handshake failed before the upgrade request.
    expect(node.upgrades).toEqual([]);
  });

  it('rejects a token that could not travel in a header when the client is made', () => {
    expect(() => connect({ nodes: ['127.0.0.1:1'], token: 'two words' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
