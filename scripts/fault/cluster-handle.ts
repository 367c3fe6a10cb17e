import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ClusterState, STATE_FILE } from '../../cluster/control-server.ts';
import type { LocalCluster } from '../../cluster/local-cluster.ts';

/** `powercut`: SIGUSR2 to a node started with --test-power-loss, which loses its unsynced writes and dies. */
export type ProcessAction = 'kill' | 'terminate' | 'powercut' | 'pause' | 'resume' | 'restart' | 'wipe';

/** What fault injection needs from a cluster: its node addresses and control of their processes. */
export interface ClusterHandle {
  readonly addresses: readonly string[];
  act(index: number, action: ProcessAction): Promise<void>;
  /** Whether node `index`'s process is still there (a failpoint kills it by itself). */
  isRunning(index: number): Promise<boolean>;
  /** Where node `index` keeps its data, for faults that damage it while the node is stopped. */
  dataDir(index: number): string;
}

/** A cluster this process owns (the chaos runner): acts on the child processes directly. */
export function ownedCluster(cluster: LocalCluster): ClusterHandle {
  return {
    addresses: cluster.nodes.map((node) => node.address),
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

/** A cluster started by `npm run cluster`: acts through its launcher's control endpoint. */
export function launchedCluster(dataRoot: string): ClusterHandle {
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(join(dataRoot, STATE_FILE), 'utf8')) as ClusterState;
  } catch {
    throw new Error(`no running cluster found (${join(dataRoot, STATE_FILE)}); start one with npm run cluster`);
  }
  return {
    addresses: state.nodes.map((node) => `127.0.0.1:${node.port}`),
    // As LocalCluster lays them out.
    dataDir: (index) => join(dataRoot, `node-${state.nodes[index]!.port}`),
    async isRunning(index) {
      const response = await fetch(`http://127.0.0.1:${state.nodes[index]!.port}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      return response !== undefined;
    },
    async act(index, action) {
      const port = state.nodes[index]!.port;
      const path = action === 'terminate' ? 'kill?signal=SIGTERM' : action === 'powercut' ? 'kill?signal=SIGUSR2' : action;
      const response = await fetch(`http://127.0.0.1:${state.controlPort}/nodes/${port}/${path}`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`launcher refused ${action} of ${port}: ${await response.text()}`);
    },
  };
}
