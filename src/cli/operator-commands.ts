// The operator commands of `quorumq`: a cluster's state and its queues, over the HTTP API of any of
// its nodes (HTTP-API.md). Each command turns its arguments into requests and the answers into a
// table for people, or hands the server's JSON through with --json.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { takeBackup } from './backup-command.ts';
import {
  type CommandIo,
  type Context,
  get,
  integerFlag,
  type Output,
  PRINTED_AS_IT_WENT,
  segment,
  staleQuery,
  stringFlag,
  type Values,
} from './command-context.ts';
import { CommandFailure, NodeApi, serverUrl } from './node-api.ts';
import { CONFIG_FLAGS, configure, enqueue, listQueues, pauseOrResume, peek, promote, redrive, tail } from './queue-operations.ts';
import { status } from './status-command.ts';
import { cell, keyValues, shortJson, table } from './text-output.ts';
import { UsageError } from './usage-error.ts';

export type { CommandIo } from './command-context.ts';

/** Exit statuses scripts can rely on (`quorumq --help` lists them). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

type OptionSpec = { readonly type: 'string' } | { readonly type: 'boolean' };
interface Command {
  /** The words that name it: `['queues', 'info']`. */
  readonly path: readonly string[];
  /** Its positional arguments; a name ending in `?` may be left out. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly run: (context: Context) => Promise<Output>;
}

const STRING = { type: 'string' } as const;
const BOOLEAN = { type: 'boolean' } as const;

const GLOBAL_OPTIONS = {
  server: STRING,
  token: STRING,
  'token-file': STRING,
  ca: STRING,
  json: BOOLEAN,
  'timeout-ms': STRING,
  help: BOOLEAN,
} as const;

const READ_OPTIONS = { stale: BOOLEAN } as const;

export const OPERATOR_HELP = `Operate a cluster over its HTTP API:
  status                          members, leader, replication lag and health of every node
  queues                          every queue with its depth
  queues info QUEUE               a queue's counts and configuration
  queues configure QUEUE [JSON]   create a queue or change its settings, from a JSON body and/or
                                  --visibility-ms N  --max-deliveries N  --dead-letter-queue Q
                                  --backoff-base-ms N --backoff-max-ms N --dedup-window-ms N
                                  --max-length N  --max-bytes N  --message-ttl-ms N  --retention-ms N
  queues purge QUEUE              drop every message of the queue
  queues delete QUEUE             delete the queue
  get QUEUE ID                    a message's state and its last deliveries
  enqueue QUEUE JSON              enqueue one message (its body as JSON; - reads it from stdin)
                                  [--priority 0..9] [--delay-ms N] [--ttl-ms N] [--dedup-id S]
  peek QUEUE                      messages in line, without leasing them
                                  [--state ready|delayed|inflight|waiting|acked|dead] [--limit N] [--after ID]
  pause QUEUE, resume QUEUE       stop and restart deliveries (enqueues are still taken)
  promote QUEUE ID[,ID...]        make delayed messages ready now (needs cluster version 2)
  redrive QUEUE                   move dead letters (of QUEUE, a dead-letter queue) back
                                  [--to QUEUE] [--max N] [--rate N]   (N per second);
                                  progress on stderr while it runs
  tail QUEUE [--count N]          print messages as they are enqueued, without consuming
                                  them (a line each; JSON lines with --json); those enqueued
                                  and acked within a quarter second may not show
  backup --out FILE [--node ADDR] the whole state at one committed index, while the cluster serves
                                  (admin token); checked (SHA-256) and written atomically
  restore FILE --data-dir DIR [--port N]
                                  offline: a new data directory from a backup, for a node that starts
                                  as a new cluster of one (docs/operations.md)

Flags of the operator commands:
  --server ADDR[,ADDR...]   nodes to ask, as host:port or http(s)://host:port, tried in turn when one
                            cannot be reached or has no leader (default $QUORUMQ_SERVER, else the three
                            nodes of cluster/defaults.json: 127.0.0.1:7001,7002,7003)
  --token T                 bearer token for a cluster with an auth file (default $QUORUMQ_TOKEN);
  --token-file F            or the token read from a file (keeps it out of the process list)
  --ca FILE                 the CA of a TLS cluster (default $QUORUMQ_CA); bare addresses then use https
  --json                    print the server's JSON instead of tables; a failure prints {"error": ...}
  --stale                   (reads) answer from the asked node's own view, without asking the leader
  --timeout-ms N            give up after this long, retries and failover included (default 15000)

Writes are repeated on another node only when nothing was written (no leader there, shutting down,
overloaded) or when repeating is harmless: enqueue sends a dedupId of its own unless given one.

Exit status:
  0  done
  1  the server refused the request or failed: the error code is printed (NOT_FOUND, UNAUTHORIZED,
     FORBIDDEN, BAD_REQUEST, NO_LEADER, ...; UNREACHABLE when no node answered, NO_ANSWER when a
     write's outcome is unknown)
  2  usage: an unknown command or flag, a missing argument, a value that is not a number or JSON`;

const COMMANDS: readonly Command[] = [
  { path: ['status'], args: [], options: {}, run: status },
  { path: ['queues'], args: [], options: READ_OPTIONS, run: listQueues },
  { path: ['queues', 'list'], args: [], options: READ_OPTIONS, run: listQueues },
  {
    path: ['queues', 'info'],
    args: ['queue'],
    options: READ_OPTIONS,
    run: async ({ api, args, flags }) => {
      const stats = await get(api, `/queues/${segment(args.queue)}${staleQuery(flags)}`);
      return { json: stats, text: keyValues(stats as Record<string, unknown>) };
    },
  },
  {
    path: ['queues', 'configure'],
    args: ['queue', 'json?'],
    options: {
      ...Object.fromEntries(Object.keys(CONFIG_FLAGS).map((flag) => [flag, STRING])),
      'dead-letter-queue': STRING,
      'backoff-base-ms': STRING,
      'backoff-max-ms': STRING,
    },
    run: configure,
  },
  {
    path: ['queues', 'purge'],
    args: ['queue'],
    options: {},
    run: async ({ api, args }) => {
      const reply = await api.send('POST', `/queues/${segment(args.queue)}/purge`, 'once');
      const purged = (reply.body as { purged?: number } | undefined)?.purged;
      return { json: reply.body, text: `purged ${purged ?? '?'} message${purged === 1 ? '' : 's'} from ${args.queue}` };
    },
  },
  {
    path: ['queues', 'delete'],
    args: ['queue'],
    options: {},
    run: async ({ api, args }) => {
      const reply = await api.send('DELETE', `/queues/${segment(args.queue)}`, 'once');
      const deleted = (reply.body as { deleted?: boolean } | undefined)?.deleted;
      return { json: reply.body ?? {}, text: deleted === false ? `queue ${args.queue} did not exist` : `deleted queue ${args.queue}` };
    },
  },
  {
    path: ['get'],
    args: ['queue', 'id'],
    options: READ_OPTIONS,
    run: async ({ api, args, flags }) => {
      const message = (await get(api, `/queues/${segment(args.queue)}/messages/${segment(args.id)}${staleQuery(flags)}`)) as Record<string, unknown>;
      const { history, ...fields } = message;
      const attempts = Array.isArray(history) ? (history as Record<string, unknown>[]) : [];
      const historyTable =
        attempts.length === 0
          ? ''
          : `\n\n${table(
              ['ATTEMPT', 'DELIVERED', 'OUTCOME', 'ENDED', 'ERROR'],
              attempts.map((attempt) => [
                cell(attempt.attempt),
                cell(attempt.deliveredAt, 'deliveredAt'),
                cell(attempt.outcome),
                cell(attempt.endedAt, 'endedAt'),
                cell(attempt.error),
              ]),
            )}`;
      return { json: message, text: `${keyValues(fields)}${historyTable}` };
    },
  },
  {
    path: ['enqueue'],
    args: ['queue', 'json'],
    options: { priority: STRING, 'delay-ms': STRING, 'ttl-ms': STRING, 'dedup-id': STRING },
    run: enqueue,
  },
  {
    path: ['peek'],
    args: ['queue'],
    options: { ...READ_OPTIONS, state: STRING, limit: STRING, after: STRING },
    run: peek,
  },
  { path: ['pause'], args: ['queue'], options: {}, run: (context) => pauseOrResume(context, 'pause') },
  { path: ['resume'], args: ['queue'], options: {}, run: (context) => pauseOrResume(context, 'resume') },
  { path: ['redrive'], args: ['queue'], options: { to: STRING, max: STRING, rate: STRING }, run: redrive },
  { path: ['promote'], args: ['queue', 'ids'], options: {}, run: promote },
  { path: ['tail'], args: ['queue'], options: { count: STRING }, run: tail },
  { path: ['backup'], args: [], options: { out: STRING, node: STRING }, run: backup },
];

/** Every flag any operator command takes: to find the command's words among the flags before it is known. */
const ALL_OPTIONS: Record<string, OptionSpec> = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((command) => command.options));

/**
 * Runs one operator command (`argv` from its first word on, flags anywhere) and answers its exit
 * status. `defaultServers` stand in when neither --server nor $QUORUMQ_SERVER names a node.
 */
export async function runOperatorCommand(argv: readonly string[], io: CommandIo, defaultServers: readonly string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { command, values, args } = parseCommand(argv);
    json = values.json === true;
    if (values.help === true) {
      io.stdout(OPERATOR_HELP);
      return EXIT.ok;
    }
    const api = new NodeApi(await apiSettings(values, io.env, defaultServers));
    const output = await command.run({ api, args, flags: values, io });
    if (output !== PRINTED_AS_IT_WENT) io.stdout(json ? JSON.stringify(output.json, null, 2) : output.text);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`quorumq: ${error.message}\n(quorumq --help lists the commands and their flags)`);
      return EXIT.usage;
    }
    if (error instanceof CommandFailure) {
      io.stderr(`quorumq: ${error.code}${error.status === 0 ? '' : ` (${error.status})`}: ${error.message}`);
      if (json) io.stdout(JSON.stringify({ error: { code: error.code, message: error.message, status: error.status } }, null, 2));
      return EXIT.failed;
    }
    throw error;
  }
}

function parseCommand(argv: readonly string[]): { command: Command; values: Values; args: Record<string, string> } {
  // First pass, loose: the words among the flags name the command, whose own flags the second pass knows.
  const loose = parseArgs({ args: [...argv], options: ALL_OPTIONS, strict: false, allowPositionals: true });
  const words = loose.positionals;
  const command = [...COMMANDS].sort((a, b) => b.path.length - a.path.length).find((candidate) => candidate.path.every((word, index) => words[index] === word));
  if (command === undefined) throw new UsageError(`unknown command ${words.slice(0, 2).join(' ') || '(none)'}`);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...command.options }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const given = parsed.positionals.slice(command.path.length);
  const required = command.args.filter((name) => !name.endsWith('?')).length;
  const name = command.path.join(' ');
  if (parsed.values.help !== true) {
    if (given.length < required) throw new UsageError(`${name} needs ${command.args.map((arg) => arg.replace('?', '').toUpperCase()).join(' ')}`);
    if (given.length > command.args.length) throw new UsageError(`${name} takes ${command.args.length} argument(s), not ${given.length}: ${given.join(' ')}`);
  }
  const args = Object.fromEntries(given.map((value, index) => [command.args[index]!.replace('?', ''), value]));
  return { command, values: parsed.values, args };
}

async function apiSettings(values: Values, env: CommandIo['env'], defaultServers: readonly string[]) {
  const caFile = stringFlag(values, 'ca') ?? nonEmpty(env.QUORUMQ_CA);
  const ca = caFile === undefined ? undefined : readFlagFile(caFile, '--ca');
  const tokenFile = stringFlag(values, 'token-file');
  const token =
    stringFlag(values, 'token') ??
    (tokenFile === undefined ? undefined : readFlagFile(tokenFile, '--token-file').toString('utf8').trim()) ??
    nonEmpty(env.QUORUMQ_TOKEN);
  // `backup --node` names the one node to take the backup from; it reads as --server does.
  const serverList = stringFlag(values, 'node') ?? stringFlag(values, 'server') ?? nonEmpty(env.QUORUMQ_SERVER);
  const servers = (serverList === undefined ? defaultServers : serverList.split(','))
    .filter((text) => text.trim() !== '')
    .map((text) => serverUrl(text, ca !== undefined));
  const timeoutMs = integerFlag(values, 'timeout-ms', 1) ?? 15_000;
  return { servers, token, ca, timeoutMs };
}

// ------------------------------------------------------------------ commands

/** `backup`: see `takeBackup`. */
async function backup({ api, flags }: Context): Promise<Output> {
  const out = stringFlag(flags, 'out');
  if (out === undefined) throw new UsageError('backup needs --out FILE');
  const { header, server } = await takeBackup(api, out);
  const { format: _format, ...fields } = header;
  return {
    json: { ...fields, file: out, node: server.host },
    text: `backup of index ${header.index} (term ${header.term}, ${header.bytes} bytes of state, sha256 ${header.sha256}) from ${server.host} written to ${out}`,
  };
}

// ------------------------------------------------------------------ helpers

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
