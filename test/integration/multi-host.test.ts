import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NODE_MALLOC_ENV, NODE_V8_FLAGS, REPO_ROOT } from '../../cluster/local-cluster.ts';
import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';
import { connect, type QuorumqClient } from '../../src/client/index.ts';
import type { ClusterView } from '../../src/server/membership/cluster-view.ts';
import { listeningAddresses, type NamespaceHost, NamespaceNetwork } from '../support/network-namespaces.ts';
import { waitFor } from './cluster-harness.ts';

// Goal: the multi-host quick start (docs/operations.md) works on hosts that are really apart. Three nodes, each
// in its own network namespace with its own address, bound to it (--host, --advertise-host), made
// with the quick start's own commands (a cluster key, a CA and one certificate per host, an auth
// file with a hashed token), form a cluster that this test process reaches from the root namespace
// over HTTPS and with the SDK; losing the leader (SIGKILL) loses no acknowledged message. A fourth
// host with a different key never joins, and a fifth without a key refuses to start.

/** Every node listens on the same port of its own host, as on real machines. */
const PORT = 7001;
const MEMBERS = 3;
/** The fourth host runs the stranger (another cluster key), the fifth a node without any key. */
const HOSTS = MEMBERS + 2;
/** How long the stranger is watched for any sign of membership: a window, not a wait for success. */
const OBSERVATION_MS = 10_000;
const OBSERVATION_POLL_MS = 250;
const LEADER_WAIT_MS = 30_000;
const START_WAIT_MS = 30_000;
const DRAIN_MS = 20_000;

/**
 * The quick start's commands that make the cluster's files (docs/operations.md, "Running on several hosts"), run
 * here as written, with the hosts as "$@": the cluster key; one CA; for each host a key and a
 * certificate naming its address, for serving and for dialing peers; an auth file holding the
 * SHA-256 of an admin token, which is printed.
 */
const QUICK_START_FILES = `
set -eu
openssl rand -base64 32 > cluster.key && chmod 600 cluster.key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj '/CN=quorumq CA' \\
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' \\
  -keyout ca-key.pem -out ca.pem
for HOST in "$@"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$HOST" \\
    -keyout "node-$HOST-key.pem" -out "node-$HOST.csr"
  printf 'subjectAltName = IP:%s\\nextendedKeyUsage = serverAuth, clientAuth\\n' "$HOST" > "node-$HOST.ext"
  openssl x509 -req -in "node-$HOST.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 \\
    -extfile "node-$HOST.ext" -out "node-$HOST.pem"
done
TOKEN="qq_$(openssl rand -hex 32)"
printf '{ "tokens": [{ "name": "admin", "sha256": "%s", "actions": ["admin"], "queues": ["*"] }] }\\n' \\
  "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" > auth.json
echo "$TOKEN"
`;

interface HostNode {
  readonly host: NamespaceHost;
  /** `host:port` as the node advertises it and everyone dials it. */
  readonly address: string;
  readonly child: ChildProcess;
  /** Everything the node printed, line by line (pino JSON). */
  readonly lines: string[];
  /** The exit code, or the signal's name, once the process has ended. */
  readonly exited: Promise<number | string>;
}

describe('a cluster of real hosts: one node per network namespace, with the cluster key, TLS and tokens', () => {
  let network: NamespaceNetwork | undefined;
  let scratch: string | undefined;
  const started: HostNode[] = [];
  let members: HostNode[] = [];
  let access: NodeAccess = {};

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'quorumq-multi-host-'));
    network = await NamespaceNetwork.create(HOSTS);
    const token = await runQuickStartFiles(
      scratch,
      network.hosts.map((host) => host.address),
    );
    access = { ca: readFileSync(join(scratch, 'ca.pem')), token };
    members = network.hosts.slice(0, MEMBERS).map((host) => startNode(host, nodeArgs(host, { keyFile: file('cluster.key'), bootstrapExpect: MEMBERS })));
  });

  afterAll(async () => {
    // Processes first (by PID): a namespace with a process still inside outlives its name.
    await Promise.all(started.map(stopNode));
    await network?.dispose();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      for (const node of started) console.error(`--- ${node.address} (${node.host.namespace}), last lines:\n${node.lines.slice(-25).join('\n')}`);
    });
  });

  function file(name: string): string {
    return join(scratch!, name);
  }

  const memberAddresses = () => members.map((node) => node.address);

  /** The quick start's command line for `host`, with the key file given (or none). */
  function nodeArgs(host: NamespaceHost, options: { keyFile: string | undefined; bootstrapExpect: number }): string[] {
    return [
      '--port',
      String(PORT),
      '--host',
      host.address,
      '--advertise-host',
      host.address,
      '--seeds',
      network!.hosts
        .slice(0, MEMBERS)
        .map((member) => `${member.address}:${PORT}`)
        .join(','),
      '--bootstrap-expect',
      String(options.bootstrapExpect),
      '--data-dir',
      file(`data-${host.address}`),
      ...(options.keyFile === undefined ? [] : ['--cluster-key-file', options.keyFile]),
      '--tls-cert',
      file(`node-${host.address}.pem`),
      '--tls-key',
      file(`node-${host.address}-key.pem`),
      '--tls-ca',
      file('ca.pem'),
      '--auth-file',
      file('auth.json'),
    ];
  }

  /** `npm run node -- <args>` inside `host`'s namespace, without npm in between: the PID held is the node's. */
  function startNode(host: NamespaceHost, args: readonly string[]): HostNode {
    const child = network!.spawn(host, process.execPath, [...NODE_V8_FLAGS, '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'node.ts'), ...args], {
      cwd: REPO_ROOT,
      // The IPC channel is a lifeline: a node whose test process dies shuts down.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...NODE_MALLOC_ENV, ...process.env },
    });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        lines.push(...parts);
      });
      stream?.on('end', () => pending !== '' && lines.push(pending));
    }
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', (error) => resolve(`failed to spawn: ${error.message}`));
    });
    const node = { host, address: `${host.address}:${PORT}`, child, lines, exited };
    started.push(node);
    return node;
  }

  /** A node's own view (`/cluster?stale=1`), over HTTPS from the root namespace with the CA and token. */
  async function refusedPeerLinks(node: HostNode): Promise<number> {
    const reply = await nodeRequest(node.address, '/metrics', access, { timeoutMs: 5000 });
    const line = reply.text.split('\n').find((text) => text.startsWith('quorumq_refused_total{what="peer_link"}'));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  async function viewOf(node: HostNode): Promise<ClusterView> {
    const reply = await nodeRequest(node.address, '/cluster?stale=1', access, { timeoutMs: 5000 });
    if (reply.status !== 200) throw new Error(`${node.address} answered /cluster with ${reply.status}: ${reply.text}`);
    return JSON.parse(reply.text) as ClusterView;
  }

  /** The node every one of `nodes` names leader, once they agree on one of them. */
  async function agreedLeader(nodes: readonly HostNode[]): Promise<HostNode> {
    return waitFor(
      async () => {
        const leaders = new Set((await Promise.all(nodes.map(viewOf))).map((view) => view.leader?.address ?? 'none'));
        return leaders.size === 1 ? nodes.find((node) => leaders.has(node.address)) : undefined;
      },
      LEADER_WAIT_MS,
      `a leader that ${nodes.map((node) => node.address).join(', ')} all name`,
    );
  }

  async function queueStats(node: HostNode, queue: string): Promise<Record<string, unknown>> {
    const reply = await nodeRequest(node.address, `/queues/${queue}`, access, { timeoutMs: 10_000 });
    expect(reply.status, reply.text).toBe(200);
    return JSON.parse(reply.text) as Record<string, unknown>;
  }

  function client(): QuorumqClient {
    return connect({ nodes: memberAddresses(), token: access.token, tls: { ca: access.ca! } });
  }

  it('forms one cluster: each node in its own namespace, advertising its own address, all naming one leader', async () => {
    const nodePath = realpathSync(process.execPath);
    for (const node of members) {
      await waitFor(
        async () => (readlinkSync(`/proc/${node.child.pid}/exe`) === nodePath ? true : undefined),
        START_WAIT_MS,
        `${node.address} to be the node process`,
      );
      expect(network!.isInside(node.child.pid!, node.host), `${node.address} runs in ${node.host.namespace}`).toBe(true);
    }
    const leader = await agreedLeader(members);
    expect(memberAddresses()).toContain(leader.address);
    // Each listens on its own address only (--host), not on every interface of its host.
    for (const node of members) expect(listeningAddresses(node.child.pid!)).toEqual([node.address]);
    // Every node lists the three, as voters, under the addresses they advertise.
    const views = await waitFor(
      async () => {
        const all = await Promise.all(members.map(viewOf));
        return all.every((view) => view.members.filter((member) => member.voter).length === MEMBERS) ? all : undefined;
      },
      LEADER_WAIT_MS,
      'three voters on every node',
    );
    for (const [index, view] of views.entries()) {
      expect(view.self.address).toBe(members[index]!.address);
      expect(view.members.map((member) => member.address).sort()).toEqual([...memberAddresses()].sort());
      expect(view.members.every((member) => member.connected)).toBe(true);
    }
    // A linearizable read through a follower agrees too.
    const follower = members.find((node) => node !== leader)!;
    const reply = await nodeRequest(follower.address, '/cluster', access, { timeoutMs: 10_000 });
    expect(reply.status, reply.text).toBe(200);
    expect((JSON.parse(reply.text) as ClusterView).leader?.address).toBe(leader.address);
  });

  it('serves the SDK in the root namespace with the token and the CA: 100 messages enqueued, received and acked', async () => {
    const queue = 'multi.host';
    const sdk = client();
    try {
      const sent = await Promise.all(Array.from({ length: 100 }, (_, n) => sdk.enqueue(queue, { n })));
      const received = await receiveAll(sdk, queue, sent.length);
      expect(received).toEqual(new Map(sent.map((reply, n) => [reply.id, { n }])));
    } finally {
      sdk.close();
    }
    for (const node of members) expect(await queueStats(node, queue)).toMatchObject({ enqueued: 100, acked: 100, ready: 0, inflight: 0 });
  });

  it('keeps every acknowledged enqueue when the leader is killed with SIGKILL while the SDK enqueues', async () => {
    const queue = 'multi.failover';
    const total = 60;
    const killAfter = 20;
    const leader = await agreedLeader(members);
    const sdk = client();
    try {
      const acknowledged = new Map<string, { n: number }>();
      let reachedKillPoint: () => void = () => undefined;
      const killPoint = new Promise<void>((resolve) => (reachedKillPoint = resolve));
      const producing = (async () => {
        for (let n = 0; n < total; n++) {
          const reply = await sdk.enqueue(queue, { n });
          acknowledged.set(reply.id, { n });
          if (acknowledged.size === killAfter) reachedKillPoint();
        }
      })();
      await Promise.race([killPoint, producing]);
      // The 21st enqueue is already submitted when the leader (where the SDK sits: preferLeader) dies.
      await stopNode(leader);
      expect(await leader.exited).toBe('SIGKILL');
      await producing;
      expect(acknowledged.size).toBe(total);
      const survivors = members.filter((node) => node !== leader);
      const next = await agreedLeader(survivors);
      expect(next).not.toBe(leader);
      // Each acknowledged enqueue is there exactly once: the SDK's retries across the failover doubled none.
      expect(await queueStats(survivors[0]!, queue)).toMatchObject({ enqueued: total, ready: total });
      expect(await receiveAll(sdk, queue, total)).toEqual(acknowledged);
    } finally {
      sdk.close();
    }
    // What was acked before the kill stays acked.
    expect(await queueStats(members.find((node) => node !== leader)!, 'multi.host')).toMatchObject({ enqueued: 100, acked: 100, ready: 0 });
  });

  it('never admits a fourth host whose cluster key differs, and that host logs the refusal', async () => {
    const live = members.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    expect(live.length).toBeGreaterThanOrEqual(2);
    const memberIds = new Set((await Promise.all(live.map(viewOf))).flatMap((view) => view.members.map((member) => member.id)));
    const otherKey = file('other-cluster.key');
    writeFileSync(otherKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const host = network!.hosts[MEMBERS]!;
    // Same CA-signed certificate and auth file as the members: only the key differs. A joiner (no bootstrap).
    const stranger = startNode(host, nodeArgs(host, { keyFile: otherKey, bootstrapExpect: 0 }));
    const strangerId = (await waitFor(() => viewOf(stranger), START_WAIT_MS, `the stranger at ${stranger.address} to answer`)).self.id;
    expect(memberIds.has(strangerId)).toBe(false);

    // Watch for the whole window; the first sight of the stranger among the members fails the test.
    const until = Date.now() + OBSERVATION_MS;
    let polls = 0;
    while (Date.now() < until) {
      for (const node of live) {
        const listed = (await viewOf(node)).members.filter((member) => member.id === strangerId || member.address === stranger.address);
        expect(listed, `${node.address} lists the stranger`).toEqual([]);
      }
      const own = await viewOf(stranger);
      expect(own.leader, 'the stranger knows a leader').toBeNull();
      expect(
        own.members.filter((member) => memberIds.has(member.id) || memberAddresses().includes(member.address ?? '')),
        'the stranger lists a member',
      ).toEqual([]);
      polls++;
      await sleep(OBSERVATION_POLL_MS);
    }
    expect(polls).toBeGreaterThanOrEqual(OBSERVATION_MS / (OBSERVATION_POLL_MS * 4));
    expect(stranger.child.exitCode).toBeNull();
    // It dialed its seeds, checked their proofs, and said why it will not talk to them.
    const refusal = await waitFor(async () => stranger.lines.find((line) => /cluster key differs/.test(line)), 5000, 'the stranger to log the refusal');
    expect(memberAddresses().some((address) => refusal.includes(address))).toBe(true);
    // And the members saw it too: the stranger's links are counted where they arrived.
    const refusedOnMembers = await Promise.all(live.map(async (node) => refusedPeerLinks(node)));
    expect(
      refusedOnMembers.some((count) => count > 0),
      `refused peer links on the members: ${refusedOnMembers.join(', ')}`,
    ).toBe(true);
  });

  it('refuses to start a fifth host that listens on its address without a cluster key, naming --cluster-key-file', async () => {
    const host = network!.hosts[MEMBERS + 1]!;
    const node = startNode(host, nodeArgs(host, { keyFile: undefined, bootstrapExpect: MEMBERS }));
    const outcome = await Promise.race([node.exited, sleep(START_WAIT_MS, 'still running', { ref: false })]);
    const output = node.lines.join('\n');
    expect(outcome, output).not.toBe('still running');
    expect(outcome, output).not.toBe(0);
    expect(output).toMatch(/--cluster-key-file/);
    expect(output).toMatch(/--insecure/);
  });
});

/** Runs the quick start's file-making commands in `dir` for `hosts`; returns the token they printed. */
function runQuickStartFiles(dir: string, hosts: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', QUICK_START_FILES, 'sh', ...hosts], { cwd: dir, timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`the quick start's commands failed: ${error.message}\n${stderr}`));
      const token = stdout.trim().split('\n').at(-1) ?? '';
      if (!/^qq_[0-9a-f]{64}$/.test(token)) return reject(new Error(`the quick start's commands printed no token: ${JSON.stringify(stdout)}`));
      resolve(token);
    });
  });
}

/** Receives and acks until `count` messages came, each once; their bodies by id. */
async function receiveAll(sdk: QuorumqClient, queue: string, count: number): Promise<Map<string, unknown>> {
  const bodies = new Map<string, unknown>();
  const deadline = Date.now() + DRAIN_MS;
  while (bodies.size < count && Date.now() < deadline) {
    const batch = await sdk.receive(queue, { max: 100, waitMs: 1000, visibilityMs: 60_000 });
    if (batch.length === 0) continue;
    for (const message of batch) {
      expect(bodies.has(message.id), `message ${message.id} delivered twice`).toBe(false);
      bodies.set(message.id, message.body);
    }
    const settled = await sdk.ack(queue, { receipts: batch.map((message) => message.receipt) });
    expect(settled.rejected).toEqual([]);
    expect(settled.count).toBe(batch.length);
  }
  return bodies;
}

/** Kills a node by its PID (SIGKILL) unless it has ended, and waits until it has. */
async function stopNode(node: HostNode): Promise<void> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  await node.exited;
}
