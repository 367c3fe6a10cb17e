import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { LocalCluster } from '../../cluster/local-cluster.ts';
import { type NodeAccess, nodeRequest, nodeUrl } from '../../cluster/node-http.ts';
import type { SecureSetup } from '../../cluster/secure-setup.ts';

export interface HttpReply {
  readonly status: number;
  readonly body: any;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A real cluster in a temp folder, on free ports, that remembers every line its nodes printed. */
export class TestCluster {
  readonly cluster: LocalCluster;
  readonly dataRoot: string;
  readonly lines: string[];
  /** How this cluster is reached: its CA when it runs TLS, a token when it wants one. */
  readonly access: NodeAccess;

  private constructor(cluster: LocalCluster, dataRoot: string, lines: string[], access: NodeAccess) {
    this.cluster = cluster;
    this.dataRoot = dataRoot;
    this.lines = lines;
    this.access = access;
  }

  /**
   * `setup` makes security files in the cluster's data folder (a cluster key, an auth file with an
   * admin token, certificates) and gives them to every node; `request` then uses them.
   */
  static async start(
    size: number,
    extraArgs: string[] = [],
    setup?: (dataRoot: string) => Promise<SecureSetup>,
    /** Another release's node program for every node (see `LocalNode.entry`). */
    entry?: string,
  ): Promise<TestCluster> {
    const dataRoot = mkdtempSync(join(tmpdir(), 'quorumq-it-'));
    const ports = await freePorts(size);
    const lines: string[] = [];
    const secure = setup === undefined ? undefined : await setup(dataRoot);
    const cluster = new LocalCluster({
      ports,
      dataRoot,
      extraArgs: [...(secure?.nodeArgs ?? []), ...extraArgs],
      onLine: (port, line) => lines.push(`[${port}] ${line}`),
    });
    const test = new TestCluster(cluster, dataRoot, lines, secure?.access ?? {});
    for (const node of cluster.nodes) node.entry = entry;
    cluster.startAll();
    return test;
  }

  url(index: number, path: string): string {
    return `${nodeUrl(this.cluster.nodes[index]!.address, this.access)}${path}`;
  }

  /** A JSON request to node `index`, with this cluster's CA and token unless `access` says otherwise. */
  async request(index: number, method: string, path: string, body?: unknown, rawBody?: string, access: NodeAccess = this.access): Promise<HttpReply> {
    const reply = await nodeRequest(this.cluster.nodes[index]!.address, path, access, {
      method,
      headers: { 'content-type': 'application/json' },
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    return { status: reply.status, body: reply.text === '' ? undefined : JSON.parse(reply.text), headers: reply.headers };
  }

  /**
   * Enqueues through `node` as a careful client does: a 503 or 504 (an election under way, an
   * unknown outcome) is retried with the same dedupId until it succeeds, so nothing is doubled.
   */
  async enqueue(node: number, queue: string, body: unknown, dedupId: string): Promise<{ id: string; seq: number }> {
    return waitFor(
      async () => {
        const reply = await this.request(node, 'POST', `/queues/${queue}/messages`, { body, dedupId });
        if (reply.status === 201) return reply.body as { id: string; seq: number };
        if (reply.status === 503 || reply.status === 504) return undefined;
        throw new GiveUp(`enqueue answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      },
      30_000,
      `enqueue of ${dedupId}`,
    );
  }

  /** The index of the node that every live node (of `among`, if given) agrees is the leader. */
  async waitForLeader(timeoutMs = 20_000, among?: readonly number[]): Promise<number> {
    return waitFor(
      async () => {
        const leaders = new Set<string>();
        for (let index = 0; index < this.cluster.nodes.length; index++) {
          if (this.cluster.nodes[index]!.process === undefined || (among !== undefined && !among.includes(index))) continue;
          const reply = await this.request(index, 'GET', '/cluster?stale=1').catch(() => undefined);
          const leader = reply?.body?.leader?.address;
          if (typeof leader !== 'string') return undefined;
          leaders.add(leader);
        }
        if (leaders.size !== 1) return undefined;
        const [address] = [...leaders];
        const index = this.cluster.nodes.findIndex((node) => node.address === address);
        return index >= 0 && this.cluster.nodes[index]!.process !== undefined ? index : undefined;
      },
      timeoutMs,
      'a leader agreed by every live node',
    );
  }

  /** An unlabelled gauge or counter from node `index`'s /metrics. */
  async metric(index: number, name: string): Promise<number> {
    const [value] = await this.metrics(index, [name]);
    return value;
  }

  /**
   * Several series (`name` or `name{labels}`) from one scrape of node `index`'s /metrics: figures
   * compared with each other must come from the same moment of a node that keeps writing.
   */
  async metrics<const Names extends readonly string[]>(index: number, names: Names): Promise<{ -readonly [K in keyof Names]: number }> {
    const response = await nodeRequest(this.cluster.nodes[index]!.address, '/metrics', this.access, { timeoutMs: 10_000 });
    const lines = response.text.split('\n');
    return names.map((name) => {
      const line = lines.find((text) => text.startsWith(`${name} `));
      if (line === undefined) throw new Error(`no ${name} in the metrics`);
      return Number(line.split(' ')[1]);
    }) as { -readonly [K in keyof Names]: number };
  }

  /** How many push subscriptions node `index` hosts, from its metrics. */
  async pushSubscriptions(index: number): Promise<number> {
    return this.metric(index, 'quorumq_push_subscriptions');
  }

  /** The one node hosting push subscriptions, once no other node hosts any. */
  async subscriptionHost(timeoutMs = 15_000): Promise<number> {
    return waitFor(
      async () => {
        const hosts: number[] = [];
        for (let index = 0; index < this.cluster.nodes.length; index++) {
          if (this.cluster.nodes[index]!.process === undefined) continue;
          if ((await this.pushSubscriptions(index)) > 0) hosts.push(index);
        }
        return hosts.length === 1 ? hosts[0] : undefined;
      },
      timeoutMs,
      'a single node hosting push subscriptions',
    );
  }

  async stop(): Promise<void> {
    await this.cluster.stopAll('SIGKILL');
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  /** The nodes' own output, for a failing test's message. */
  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }
}

/** Thrown by a probe to stop waiting at once: the answer is final and wrong. */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      // A probe may fail while nodes restart; it may not hide a definite refusal.
      if (error instanceof GiveUp) throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * One cluster for a whole describe block, started before its tests and always stopped after,
 * even when they fail. Returns a getter, since the cluster exists only once beforeAll ran.
 */
export function clusterForSuite(size: number, extraArgs: string[] = [], setup?: (dataRoot: string) => Promise<SecureSetup>): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await TestCluster.start(size, extraArgs, setup);
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error('the suite cluster has not started');
    return cluster;
  };
}

/**
 * A fresh cluster for each test that asks for one, stopped after the test whether it passed or not:
 * `const cluster = await startCluster(3, flags)`.
 */
export function clusterPerTest(): (
  size: number,
  extraArgs?: string[],
  setup?: (dataRoot: string) => Promise<SecureSetup>,
  entry?: string,
) => Promise<TestCluster> {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return async (size, extraArgs = [], setup, entry) => {
    cluster = await TestCluster.start(size, extraArgs, setup, entry);
    return cluster;
  };
}
