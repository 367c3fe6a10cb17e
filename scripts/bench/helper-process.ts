// A helper process of the floors (ws-peer.ts, replication-peer.ts): started with tsx, it prints
// `port <n>` once it listens on a free port of 127.0.0.1, and dies with the benchmark (its IPC
// channel is its lifeline). Stopped by PID, also when the benchmark is interrupted.
import { spawn } from 'node:child_process';
import { type BenchRun, trackChild } from './harness.ts';

export interface HelperProcess {
  readonly port: number;
  stop(): void;
}

export async function startHelper(bench: BenchRun, script: string, args: readonly string[]): Promise<HelperProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const untrack = trackChild(child);
  const stop = () => {
    child.kill('SIGKILL');
    untrack();
  };
  bench.onCleanup(stop);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let pending = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        pending += chunk;
        const match = /port (\d+)/.exec(pending);
        if (match !== null) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited (${code}) before it listened`)));
    });
    return { port, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
