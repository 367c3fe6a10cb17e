// One quorumq peer: `npm run node -- --port N`. Every node runs this same program.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { QuorumNode } from '../server/index.ts';
import { NODE_USAGE, parseNodeArgs, UsageError } from './node-args.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A shutdown that hangs must not keep the port: after this, the process exits regardless. */
const SHUTDOWN_MS_MAX = 10_000;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseNodeArgs(process.argv.slice(2), root);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== '') console.error(`quorumq: ${message}`);
    console.error(NODE_USAGE);
    process.exit(error instanceof UsageError && message === '' ? 0 : 2);
  }
  const log = pino({ level: parsed.logLevel, base: { port: parsed.options.port } });
  const node = await QuorumNode.start(parsed.options, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), SHUTDOWN_MS_MAX).unref();
    void node.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Started by a launcher (npm run cluster, the tests): never outlive it.
  if (process.send !== undefined) process.on('disconnect', () => shutdown('launcher exited'));
}

main().catch((error: unknown) => {
  console.error(`quorumq: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
