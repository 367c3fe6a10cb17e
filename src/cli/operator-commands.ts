// The operator commands of `quorumq`: a cluster's state and its queues, over the HTTP API of any of
// its nodes (HTTP-API.md). Each command turns its arguments into requests and the answers into a
// table for people, or hands the server's JSON through with --json.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { takeBackup } from './backup-command.ts';
import { CommandFailure, NodeApi, serverUrl } from './node-api.ts';
import { tailQueue } from './queue-tail.ts';
import { cell, keyValues, shortJson, table } from './text-output.ts';
import { UsageError } from './usage-error.ts';

/** Exit statuses scripts can rely on (`quorumq --help` lists them). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where a command reads and writes: the process's streams, or a test's. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readStdin: () => Promise<string>;
}

type OptionSpec = { readonly type: 'string' } | { readonly type: 'boolean' };
type Values = Readonly<Record<string, string | boolean | undefined>>;

interface Context {
  readonly api: NodeApi;
  /** The positional arguments by the names the command gives them. */
  readonly args: Readonly<Record<string, string>>;
  readonly flags: Values;
  readonly io: CommandIo;
}

/** What a command answers: the JSON for --json, and the same for people; undefined when it printed as it went (tail). */
interface Output {
  readonly json: unknown;
  readonly text: string;
}

/** A command that wrote its output line by line as it ran. */
const PRINTED_AS_IT_WENT: Output = { json: undefined, text: '' };

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

/** `queues configure` flags and the config field each sets (`backoff` takes two). */
const CONFIG_FLAGS = {
  'visibility-ms': 'visibilityMs',
  'max-deliveries': 'maxDeliveries',
  'dedup-window-ms': 'dedupWindowMs',
  'max-length': 'maxLength',
  'max-bytes': 'maxBytes',
  'message-ttl-ms': 'messageTtlMs',
  'retention-ms': 'retentionMs',
} as const;

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

interface MemberView {
  readonly id: string;
  readonly address: string | null;
  readonly state: string;
  readonly voter: boolean;
  readonly raft?: string | null;
  readonly connected?: boolean;
  readonly matchIndex?: number;
  /** Absent from releases before the version gate. */
  readonly release?: { readonly version: string; readonly clusterVersionMax: number };
}

interface ClusterView {
  readonly self: { readonly id: string; readonly role: string; readonly term: number; readonly commitIndex: number; readonly appliedIndex: number };
  readonly leader: { readonly id: string; readonly address: string | null } | null;
  readonly members: readonly MemberView[];
  /** Absent from releases before the version gate (they run cluster version 1). */
  readonly clusterVersion?: number;
}

/** A member's own word about itself: a short wait, since a silent node is what `status` is there to show. */
const MEMBER_TIMEOUT_MS = 2_000;

/**
 * `status`: the members as the first node that answers knows them; the leader's view for how far
 * each has replicated (`lag`: entries behind the leader's last); each member's own view (role, term,
 * applied index) and `/health`. Every view is the answering node's own (`?stale=1`), so that status
 * works best when something is wrong: no leader, a member down.
 */
async function status({ api }: Context): Promise<Output> {
  const first = await api.send('GET', '/cluster?stale=1', 'idempotent');
  const view = first.body as ClusterView;
  const leaderView =
    view.self.role === 'leader'
      ? view
      : view.leader?.address
        ? await ownView(api, api.memberUrl(view.leader.address)).then((own) => (own?.self.role === 'leader' ? own : undefined))
        : undefined;
  const leaderLast = leaderView?.members.find((member) => member.id === leaderView.self.id)?.matchIndex;
  const members = await Promise.all(
    view.members.map(async (member) => {
      const url = member.address === null ? undefined : api.memberUrl(member.address);
      const [own, health] = url === undefined ? [undefined, undefined] : await Promise.all([ownView(api, url), healthOf(api, url)]);
      const matchIndex = leaderView?.members.find((other) => other.id === member.id)?.matchIndex;
      // Its own word about its release; a node that answers without one runs a release from before the gate.
      const release = own === undefined ? null : (own.members.find((other) => other.id === member.id)?.release?.version ?? 'before 0.3');
      return {
        id: member.id,
        address: member.address,
        role: own?.self.role ?? null,
        term: own?.self.term ?? null,
        appliedIndex: own?.self.appliedIndex ?? null,
        raft: member.raft ?? (member.voter ? 'voter' : null),
        voter: member.voter,
        state: member.state,
        connected: member.connected ?? null,
        matchIndex: matchIndex ?? null,
        lag: matchIndex === undefined || leaderLast === undefined ? null : leaderLast - matchIndex,
        release,
        health: health ?? { ok: false, reason: 'no address known' },
      };
    }),
  );
  const json = {
    leader: view.leader,
    term: leaderView?.self.term ?? view.self.term,
    commitIndex: leaderView?.self.commitIndex ?? null,
    clusterVersion: leaderView?.clusterVersion ?? view.clusterVersion ?? 1,
    answeredBy: { id: view.self.id, server: first.server.host },
    members,
  };
  const headline =
    view.leader === null
      ? `no leader known to ${view.self.id} (term ${view.self.term})`
      : `leader ${view.leader.id}${view.leader.address === null ? '' : ` at ${view.leader.address}`}, term ${json.term}${
          json.commitIndex === null ? '' : `, commit index ${json.commitIndex}`
        }, cluster version ${json.clusterVersion}`;
  const rows = members.map((member) => [
    member.id,
    cell(member.address),
    cell(member.role),
    cell(member.raft),
    member.state,
    cell(member.appliedIndex),
    cell(member.matchIndex),
    cell(member.lag),
    cell(member.release),
    member.health.ok ? `ok (${member.health.reason})` : `DOWN: ${member.health.reason}`,
  ]);
  return { json, text: `${headline}\n${table(['ID', 'ADDRESS', 'ROLE', 'RAFT', 'GOSSIP', 'APPLIED', 'MATCH', 'LAG', 'RELEASE', 'HEALTH'], rows)}` };
}

async function ownView(api: NodeApi, url: URL): Promise<ClusterView | undefined> {
  return api
    .sendTo(url, 'GET', '/cluster?stale=1', MEMBER_TIMEOUT_MS)
    .then((reply) => (reply.status === 200 ? (reply.body as ClusterView) : undefined))
    .catch(() => undefined);
}

async function healthOf(api: NodeApi, url: URL): Promise<{ ok: boolean; reason: string }> {
  try {
    const reply = await api.sendTo(url, 'GET', '/health', MEMBER_TIMEOUT_MS);
    const reason = (reply.body as { reason?: unknown } | undefined)?.reason;
    return { ok: reply.status === 200, reason: typeof reason === 'string' ? reason : `status ${reply.status}` };
  } catch (error) {
    return { ok: false, reason: `unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function listQueues({ api, flags }: Context): Promise<Output> {
  const body = (await get(api, `/queues${staleQuery(flags)}`)) as { queues?: Record<string, unknown>[] };
  const queues = [...(body.queues ?? [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const withPaused = queues.some((queue) => typeof queue.paused === 'boolean');
  const count = (queue: Record<string, unknown>, field: string) => (typeof queue[field] === 'number' ? (queue[field] as number) : 0);
  const rows = queues.map((queue) => [
    String(queue.name),
    String(count(queue, 'ready') + count(queue, 'delayed') + count(queue, 'inflight')),
    cell(queue.ready),
    cell(queue.delayed),
    cell(queue.inflight),
    cell(queue.dead),
    cell(queue.enqueued),
    cell(queue.acked),
    cell(queue.bytes),
    ...(withPaused ? [queue.paused === true ? 'paused' : ''] : []),
  ]);
  const header = ['QUEUE', 'DEPTH', 'READY', 'DELAYED', 'INFLIGHT', 'DEAD', 'ENQUEUED', 'ACKED', 'BYTES', ...(withPaused ? ['PAUSED'] : [])];
  return { json: body, text: queues.length === 0 ? 'no queues' : table(header, rows) };
}

async function configure({ api, args, flags }: Context): Promise<Output> {
  const config: Record<string, unknown> = args.json === undefined ? {} : jsonObject(args.json, 'the configuration');
  for (const [flag, field] of Object.entries(CONFIG_FLAGS)) {
    const value = integerFlag(flags, flag, 0);
    if (value !== undefined) config[field] = value;
  }
  const deadLetterQueue = stringFlag(flags, 'dead-letter-queue');
  if (deadLetterQueue !== undefined) config.deadLetterQueue = deadLetterQueue;
  const baseMs = integerFlag(flags, 'backoff-base-ms', 0);
  const maxMs = integerFlag(flags, 'backoff-max-ms', 0);
  if (baseMs !== undefined || maxMs !== undefined) {
    const backoff = {
      ...((config.backoff as Record<string, unknown> | undefined) ?? {}),
      ...(baseMs === undefined ? {} : { baseMs }),
      ...(maxMs === undefined ? {} : { maxMs }),
    };
    if (backoff.baseMs === undefined || backoff.maxMs === undefined) throw new UsageError('a backoff needs both --backoff-base-ms and --backoff-max-ms');
    config.backoff = backoff;
  }
  // The whole config is sent each time: repeating it leaves the same queue.
  const reply = await api.send('PUT', `/queues/${segment(args.queue)}`, 'idempotent', config);
  const body = reply.body as { config?: Record<string, unknown> } & Record<string, unknown>;
  const settings = body.config ?? body;
  return { json: body, text: `${reply.status === 201 ? 'created' : 'configured'} queue ${args.queue}\n${keyValues(settings)}` };
}

async function enqueue({ api, args, flags, io }: Context): Promise<Output> {
  const text = args.json === '-' ? await io.readStdin() : args.json!;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`the message body is not JSON: ${shortJson(text, 40)} (a string needs its quotes: '"text"')`);
  }
  const priority = integerFlag(flags, 'priority', 0);
  const delayMs = integerFlag(flags, 'delay-ms', 0);
  const ttlMs = integerFlag(flags, 'ttl-ms', 1);
  // A dedupId makes the enqueue safe to repeat on another node when an answer is lost.
  const dedupId = stringFlag(flags, 'dedup-id') ?? `quorumq-cli-${randomUUID()}`;
  const message = {
    body,
    dedupId,
    ...(priority === undefined ? {} : { priority }),
    ...(delayMs === undefined ? {} : { delayMs }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
  };
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/messages`, 'idempotent', message);
  const result = reply.body as { id?: string; seq?: number };
  return { json: result, text: `enqueued to ${args.queue}: id ${cell(result.id)}, seq ${cell(result.seq)}` };
}

async function peek({ api, args, flags }: Context): Promise<Output> {
  const query = new URLSearchParams();
  for (const name of ['state', 'limit', 'after'] as const) {
    const value = name === 'limit' ? integerFlag(flags, name, 1) : stringFlag(flags, name);
    if (value !== undefined) query.set(name, String(value));
  }
  if (flags.stale === true) query.set('stale', '1');
  const search = query.size === 0 ? '' : `?${query}`;
  const page = (await get(api, `/queues/${segment(args.queue)}/messages${search}`)) as { messages?: Record<string, unknown>[]; next?: string };
  const messages = page.messages ?? [];
  const rows = messages.map((message) => [
    cell(message.id),
    cell(message.seq),
    cell(message.state),
    cell(message.priority),
    cell(message.attempt),
    cell(message.enqueuedAt, 'enqueuedAt'),
    shortJson(message.body),
  ]);
  const listing =
    messages.length === 0
      ? `no ${stringFlag(flags, 'state') ?? ''} messages in ${args.queue}`.replace('  ', ' ')
      : table(['ID', 'SEQ', 'STATE', 'PRIORITY', 'ATTEMPT', 'ENQUEUED', 'BODY'], rows);
  return { json: page, text: page.next === undefined ? listing : `${listing}\nmore: --after ${page.next}` };
}

async function promote({ api, args }: Context): Promise<Output> {
  const ids = args.ids!.split(',').filter((id) => id !== '');
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/promote`, 'idempotent', { ids });
  const { promoted, rejected } = reply.body as { promoted: number; rejected: readonly { id: string; code: string }[] };
  const refused = rejected.map((rejection) => `${rejection.id} ${rejection.code}`).join(', ');
  return { json: reply.body, text: `promoted ${promoted} of ${ids.length} in ${args.queue}${refused === '' ? '' : `; not promoted: ${refused}`}` };
}

async function pauseOrResume({ api, args }: Context, action: 'pause' | 'resume'): Promise<Output> {
  const reply = await api.send('POST', `/queues/${segment(args.queue)}/${action}`, 'idempotent');
  const paused = (reply.body as { paused?: boolean } | undefined)?.paused ?? action === 'pause';
  return { json: reply.body, text: `queue ${args.queue} ${paused ? 'paused: it takes enqueues and delivers nothing' : 'delivers again'}` };
}

/**
 * Asks again while the node answers part of the move (it answers after about half its request
 * timeout), printing each part on stderr: a redrive of 100,000 shows its progress, and stdout keeps
 * only the totals (for --json). Each request moves whole batches that never move twice.
 */
async function redrive({ api, args, flags, io }: Context): Promise<Output> {
  const to = stringFlag(flags, 'to');
  const max = integerFlag(flags, 'max', 1);
  const ratePerSec = integerFlag(flags, 'rate', 1);
  let moved = 0;
  let remaining = 0;
  for (;;) {
    const left = max === undefined ? undefined : max - moved;
    const body = { ...(to === undefined ? {} : { to }), ...(left === undefined ? {} : { max: left }), ...(ratePerSec === undefined ? {} : { ratePerSec }) };
    const reply = await api.send('POST', `/queues/${segment(args.queue)}/redrive`, 'once', body);
    const part = (reply.body ?? {}) as { moved?: number; remaining?: number };
    moved += part.moved ?? 0;
    remaining = part.remaining ?? 0;
    const done = (part.moved ?? 0) === 0 || remaining === 0 || (max !== undefined && moved >= max);
    if (!done) io.stderr(`moved ${moved} so far, ${remaining} left in ${args.queue}`);
    if (done) break;
  }
  return { json: { moved, remaining }, text: `moved ${moved} message${moved === 1 ? '' : 's'} out of ${args.queue}; ${remaining} left there` };
}

/** Prints each new message as a line (a JSON object per line with --json) until --count or Ctrl-C. */
async function tail({ api, args, flags, io }: Context): Promise<Output> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  try {
    await tailQueue(api, args.queue!, {
      count: integerFlag(flags, 'count', 1),
      stopped: () => stopped,
      print: (message) => io.stdout(flags.json === true ? JSON.stringify(message) : `${message.id} ${message.state} ${shortJson(message.body)}`),
    });
    return PRINTED_AS_IT_WENT;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

// ------------------------------------------------------------------ helpers

async function get(api: NodeApi, path: string): Promise<unknown> {
  return (await api.send('GET', path, 'idempotent')).body;
}

function staleQuery(flags: Values): string {
  return flags.stale === true ? '?stale=1' : '';
}

/** A queue name or message id as one path segment, whatever characters it holds. */
function segment(text: string | undefined): string {
  return encodeURIComponent(text ?? '');
}

function stringFlag(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

/** An integer flag of at least `min`, or undefined when not given; anything else is a usage error. */
function integerFlag(values: Values, name: string, min: number): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer of at least ${min}, not ${text}`);
  return value;
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} is not JSON: ${shortJson(text, 40)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
