import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import type { LocalCluster } from './local-cluster.ts';

export const STATE_FILE = 'cluster.json';

/** How scripts reach the nodes of a secured cluster: the CA that signed them, the admin token. */
export interface ClusterAccessFiles {
  readonly caFile?: string | undefined;
  readonly token?: string | undefined;
}

export interface ClusterState {
  readonly controlPort: number;
  readonly access?: ClusterAccessFiles;
  readonly nodes: readonly { readonly port: number; readonly pid: number | null; readonly dataDir: string }[];
}

/**
 * The launcher's control endpoint on 127.0.0.1, so that `npm run fault` can kill, pause, resume,
 * restart or wipe nodes the launcher owns, always by the PID it holds. Its port and the node PIDs
 * are written to `<dataRoot>/cluster.json`.
 *   POST /nodes/<port>/<kill|pause|resume|restart|wipe>   (kill takes ?signal=SIGKILL|SIGTERM|SIGUSR2)
 *   POST /nodes/add                                       a new node that joins through the others
 */
export class ControlServer {
  private readonly server: Server;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly dataRoot: string,
    private readonly extraArgs: readonly string[] = [],
    private readonly access: ClusterAccessFiles = {},
  ) {
    this.server = createServer((request, response) => {
      this.handle(request.method ?? 'GET', new URL(request.url ?? '/', 'http://control'))
        .then((body) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)))
        .catch((error: unknown) => response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('control server has no port');
    this.writeState();
    return address.port;
  }

  close(): void {
    this.server.close();
    rmSync(join(this.dataRoot, STATE_FILE), { force: true });
  }

  writeState(): void {
    const address = this.server.address();
    if (address === null || typeof address === 'string') return;
    const state: ClusterState = {
      controlPort: address.port,
      access: this.access,
      nodes: this.cluster.nodes.map((node) => ({ port: node.port, pid: node.process?.pid ?? null, dataDir: node.dataDir })),
    };
    // It may hold the admin token: readable by this user only, like the token file itself.
    writeFileSync(join(this.dataRoot, STATE_FILE), JSON.stringify(state, null, 2), { mode: 0o600 });
  }

  /** The next port after the highest in use that is free, joining through every current node. */
  private async addNode(): Promise<unknown> {
    let port = Math.max(...this.cluster.nodes.map((node) => node.port)) + 1;
    while (!(await isFree(port))) port++;
    const index = this.cluster.add(
      port,
      this.cluster.nodes.map((node) => node.address),
    );
    this.cluster.start(index, this.extraArgs);
    this.writeState();
    return { port, action: 'add', pid: this.cluster.nodes[index]!.process?.pid ?? null };
  }

  private async handle(method: string, url: URL): Promise<unknown> {
    if (method === 'POST' && url.pathname === '/nodes/add') return this.addNode();
    const match = /^\/nodes\/(\d+)\/(kill|pause|resume|restart|wipe)$/.exec(url.pathname);
    if (method !== 'POST' || match === null) throw new Error(`unknown control ${method} ${url.pathname}`);
    const index = this.cluster.nodes.findIndex((node) => node.port === Number(match[1]));
    if (index < 0) throw new Error(`no node on port ${match[1]}`);
    const node = this.cluster.nodes[index]!;
    switch (match[2]) {
      case 'kill':
        await this.cluster.kill(index, killSignal(url.searchParams.get('signal')));
        break;
      case 'pause':
        this.cluster.pause(index);
        break;
      case 'resume':
        this.cluster.resume(index);
        break;
      case 'wipe':
        await this.cluster.kill(index, 'SIGKILL');
        rmSync(node.dataDir, { recursive: true, force: true });
        this.cluster.start(index);
        break;
      case 'restart':
        await this.cluster.kill(index, 'SIGKILL');
        this.cluster.start(index);
        break;
    }
    this.writeState();
    return { port: node.port, action: match[2], pid: node.process?.pid ?? null };
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createTcpServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** SIGTERM stops gracefully, SIGUSR2 cuts the power of a node started with --test-power-loss; the default is kill -9. */
function killSignal(name: string | null): NodeJS.Signals {
  return name === 'SIGTERM' || name === 'SIGUSR2' ? name : 'SIGKILL';
}
