// One quorumq peer, run in this process until a signal or its launcher ends it: `quorumq node` and
// `npm run node` (src/cli/node.ts) both come here.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeUsageText, parseNodeArgs, UsageError } from './node-args.ts';

/** The package's root: `cluster/defaults.json` sits there, two folders above this module in src/ and in dist/ alike. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A shutdown that hangs must not keep the port: after this, the process exits regardless. */
const SHUTDOWN_MS_MAX = 10_000;

/** The node's storage addon: an optional peer dependency of the package, which the SDK alone does not need. */
const STORAGE_ADDON = 'classic-level';

/**
 * Parses `argv` (with the environment and a config file), starts the node and keeps it running;
 * exits the process on bad settings (2) or a failed start (1).
 */
export async function runNode(argv: readonly string[]): Promise<void> {
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs([...argv], PACKAGE_ROOT);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    for (const line of message === '' ? [] : message.split('\n')) console.error(`quorumq: ${line}`);
    // A command line it cannot read gets the usage; a bad setting, only where to look (the usage is long).
    if (error instanceof UsageError) console.error(nodeUsageText(PACKAGE_ROOT));
    else console.error('quorumq: the node did not start; quorumq node --help lists every setting');
    process.exit(error instanceof UsageError && message === '' ? 0 : 2);
  }
  try {
    // Loaded only now: the operator commands and the SDK must not need the node's dependencies.
    const [{ pino }, { QuorumNode }] = await Promise.all([import('pino'), import('../server/index.ts')]);
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
    // Started by a launcher (quorumq cluster, npm run cluster, the tests): never outlive it.
    if (process.send !== undefined) process.on('disconnect', () => shutdown('launcher exited'));
  } catch (error) {
    console.error(`quorumq: failed to start: ${missingAddon(error) ? addonHint() : error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

function missingAddon(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' && error instanceof Error && error.message.includes(`'${STORAGE_ADDON}'`);
}

function addonHint(): string {
  return (
    `a node keeps its log in LevelDB through the ${STORAGE_ADDON} addon, which is not installed. ` +
    `It is an optional peer dependency (the SDK alone does not need it): npm install ${STORAGE_ADDON}@^3`
  );
}
