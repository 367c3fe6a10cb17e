#!/usr/bin/env node
// The `quorumq` command, the package's bin: run a node (`quorumq node`), a local cluster
// (`quorumq cluster`), or operate a running cluster over its HTTP API (`quorumq status`, `queues`...).
// Each part is loaded only when asked for, so the operator commands start without the node's modules.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterDefaults } from './cluster-defaults.ts';
import { type CommandIo, EXIT, OPERATOR_HELP, runOperatorCommand } from './operator-commands.ts';
import { UsageError } from './usage-error.ts';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const HELP = `usage: quorumq <command> [arguments] [flags]

Run quorumq:
  node --port N [node flags]    one node of a cluster (quorumq node --help lists its flags)
  cluster [--nodes N] [--base-port P] [--data-root DIR] [-- node flags]
                                a local cluster on 127.0.0.1 for trying quorumq, with readable logs

${OPERATOR_HELP}

  quorumq --version             the package's version`;

async function main(argv: readonly string[]): Promise<number | 'running'> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-v') {
    console.log((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    return EXIT.ok;
  }
  if (command === 'node') {
    const { runNode } = await import('./node-runner.ts');
    await runNode(rest);
    return 'running';
  }
  if (command === 'restore') {
    const { runRestore } = await import('./restore-command.ts');
    return runRestore(rest, operatorIo());
  }
  if (command === 'cluster') {
    const { runCluster, CLUSTER_USAGE } = await import('./cluster-command.ts');
    try {
      await runCluster(rest);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      if (error.message !== '') console.error(`quorumq: ${error.message}`);
      console.error(CLUSTER_USAGE);
      return error.message === '' ? EXIT.ok : EXIT.usage;
    }
    return 'running';
  }
  return runOperatorCommand(argv, operatorIo(), clusterDefaults(PACKAGE_ROOT).seeds);
}

function operatorIo(): CommandIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    readStdin,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => {
    // The process ends on its own once its output is written (an exit now could cut a piped --json short).
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`quorumq: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = EXIT.failed;
  },
);
