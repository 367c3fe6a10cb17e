import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ClusterState, STATE_FILE } from '../../cluster/control-server.ts';
import type { LocalCluster } from '../../cluster/local-cluster.ts';
import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';

/** `powercut`: SIGUSR2 to a node started with --test-power-loss, which loses its unsynced writes and dies. */
export type ProcessAction = 'kill' | 'terminate' | 'powercut' | 'pause' | 'resume' | 'restart' | 'wipe';

/** What fault injection needs from a cluster: its node addresses and control of their processes. */
export interface ClusterHandle {
  readonly addresses: readonly string[];
  /** How to reach the nodes' HTTP API: the CA and admin token of a secured cluster, nothing otherwise. */
  readonly access: NodeAccess;
  act(index: number, action: ProcessAction): Promise<void>;
  /** Whether node `index`'s process is still there (a failpoint kills it by itself). */
  isRunning(index: number): Promise<boolean>;
  /** Where node `index` keeps its data, for faults that damage it while the node is stopped. */
  dataDir(index: number): string;
}

/** A cluster this process owns (the chaos runner): acts on the child processes directly. */
export function ownedCluster(cluster: LocalCluster, access: NodeAccess = {}): ClusterHandle {
  return {
    addresses: cluster.nodes.map((node) => node.address),
    access,
    dataDir: (index) => cluster.nodes[index]!.dataDir,
    isRunning: async (index) => cluster.nodes[index]!.process !== undefined,
    async act(index, action) {
      switch (action) {
        case 'kill':
          return cluster.kill(index, 'SIGKILL');
        case 'terminate':
          return cluster.kill(index, 'SIGTERM');
        case 'powercut':
          return cluster.kill(index, 'SIGUSR2');
        case 'pause':
          return cluster.pause(index);
        case 'resume':
          return cluster.resume(index);
        case 'restart':
          await cluster.kill(index, 'SIGKILL');
          return cluster.start(index);
        case 'wipe':
          await cluster.kill(index, 'SIGKILL');
          rmSync(cluster.nodes[index]!.dataDir, { recursive: true, force: true });
          return cluster.start(index);
      }
    },
  };
}

/**
 * A cluster started by `npm run cluster`: acts through its launcher's control endpoint, and reaches
 * the nodes with the CA and admin token its state file names (`--secure`, `--tls`, `--auth`).
 */
export function launchedCluster(dataRoot: string): ClusterHandle {
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(join(dataRoot, STATE_FILE), 'utf8')) as ClusterState;
  } catch {
    throw new Error(`no running cluster found (${join(dataRoot, STATE_FILE)}); start one with npm run cluster`);
  }
  const access = accessOf(state);
  return {
    addresses: state.nodes.map((node) => `127.0.0.1:${node.port}`),
    access,
    // As LocalCluster lays them out.
    dataDir: (index) => join(dataRoot, `node-${state.nodes[index]!.port}`),
    async isRunning(index) {
      const reply = await nodeRequest(`127.0.0.1:${state.nodes[index]!.port}`, '/health', access, { timeoutMs: 1000 }).catch(() => undefined);
      return reply !== undefined;
    },
    async act(index, action) {
      const port = state.nodes[index]!.port;
      const path = action === 'terminate' ? 'kill?signal=SIGTERM' : action === 'powercut' ? 'kill?signal=SIGUSR2' : action;
      const response = await fetch(`http://127.0.0.1:${state.controlPort}/nodes/${port}/${path}`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`launcher refused ${action} of ${port}: ${await response.text()}`);
    },
  };
}

function accessOf(state: ClusterState): NodeAccess {
  const { caFile, token } = state.access ?? {};
  let ca: Buffer | undefined;
  try {
    ca = caFile === undefined ? undefined : readFileSync(caFile);
  } catch (error) {
    throw new Error(`the cluster's CA (${caFile}) cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { ...(ca === undefined ? {} : { ca }), ...(token === undefined ? {} : { token }) };
}
