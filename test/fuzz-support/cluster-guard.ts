import WebSocket from 'ws';
import { decode, encode } from '../../src/shared/codec.ts';
import { type TestCluster, waitFor } from '../integration/cluster-harness.ts';
import { openClientSocket } from './client-fuzz.ts';

/**
 * What the fuzz suite checks between batches: no node process exited, no node logged a fatal or an
 * INTERNAL failure, every node answers and serves writes, and the messages acknowledged before
 * fuzzing began are all still there, on every replica, untouched.
 */

export interface NodeExit {
  readonly node: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Log lines that mean a node failed, even if it still runs: fatal, INTERNAL answers, entries skipped. */
const BAD_LINE = /"level":60|"msg":"(request failed|client request failed|a command in the log failed to apply|an entry in the log does not decode)"/;

export class ClusterGuard {
  readonly exits: NodeExit[] = [];
  private logCursor = 0;

  constructor(private readonly test: TestCluster) {
    test.cluster.nodes.forEach((node, index) => {
      node.process?.once('exit', (code, signal) => this.exits.push({ node: index, code, signal }));
    });
  }

  /** Lines logged since the last call that say a node failed. */
  newBadLines(): string[] {
    const lines = this.test.lines.slice(this.logCursor);
    this.logCursor = this.test.lines.length;
    // A line that is no JSON is Node's own output: an uncaught exception's stack, a warning.
    return lines.filter((line) => BAD_LINE.test(line) || !/^\[\d+\] (\{|\s*$)/.test(line));
  }

  /** Exits so far, and nodes with no process: each one a crash. */
  crashes(): string[] {
    const found = this.exits.map((exit) => `node ${exit.node} exited (code ${exit.code}, signal ${exit.signal})`);
    this.test.cluster.nodes.forEach((node, index) => {
      if (node.process === undefined && !this.exits.some((exit) => exit.node === index)) found.push(`node ${index} has no process`);
    });
    return found;
  }

  /** Every node answers `/cluster` (its own view) within the deadline. */
  async everyNodeAnswers(timeoutMs: number): Promise<ClusterSelf[]> {
    const views: ClusterSelf[] = [];
    for (let index = 0; index < this.test.cluster.nodes.length; index++) {
      views.push(
        await waitFor(
          async () => {
            const reply = await this.test.request(index, 'GET', '/cluster?stale=1');
            return reply.status === 200 ? (reply.body as ClusterSelf) : undefined;
          },
          timeoutMs,
          `node ${index} to answer /cluster`,
        ),
      );
    }
    return views;
  }
}

/** What `/cluster?stale=1` says (src/server/cluster-view.ts), the parts the suite reads. */
export interface ClusterSelf {
  readonly self: {
    readonly id: string;
    readonly address: string;
    readonly role: string;
    readonly term: number;
    readonly commitIndex: number;
    readonly appliedIndex: number;
  };
  readonly leader: { readonly id: string; readonly address: string | null } | null;
  readonly members: readonly {
    readonly id: string;
    readonly voter: boolean;
    readonly raft: string | null;
    readonly state: string;
    readonly matchIndex?: number;
    readonly address?: string | null;
    readonly inGossip?: boolean;
  }[];
}

/**
 * A plain client connection for the suite's own housekeeping (listing and deleting the queues
 * fuzzing made): the WebSocket protocol takes any valid name, which a URL path does not ('.').
 */
export class HousekeepingClient {
  private nextId = 1;

  private constructor(private readonly socket: WebSocket) {}

  static async open(address: string): Promise<HousekeepingClient> {
    return new HousekeepingClient(await openClientSocket(`ws://${address}/ws`));
  }

  async call(frame: Record<string, unknown>, timeoutMs = 30_000): Promise<{ ok: boolean; result?: any; error?: { code: string; message: string } }> {
    const id = this.nextId++;
    const reply = new Promise<any>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        this.socket.off('close', onClose);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no reply to ${JSON.stringify(frame)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (data: Buffer) => {
        const message = decode(data) as { id?: number };
        if (message.id !== id) return;
        done();
        resolve(message);
      };
      const onClose = () => {
        done();
        reject(new Error('the housekeeping connection closed'));
      };
      this.socket.on('message', onMessage);
      this.socket.on('close', onClose);
    });
    this.socket.send(encode({ ...frame, id }));
    return reply;
  }

  close(): void {
    this.socket.terminate();
  }
}
