import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';

/**
 * Hosts for tests that need more than one machine: Linux network namespaces, each with its own
 * address on a bridge in the root namespace, so a process in one reaches the others (and this test
 * process reaches them all) over a real interface and a real route, never loopback.
 *
 *   root namespace:  <prefix>br  10.77.K.1/24
 *                     |-- veth <prefix>h0 <-> <prefix>v0 in namespace <prefix>n0: 10.77.K.10/24
 *                     |-- veth <prefix>h1 <-> <prefix>v1 in namespace <prefix>n1: 10.77.K.11/24
 *
 * Every name starts with a prefix made for this run (`qq` and 6 hex digits, checked unused), and
 * `dispose` deletes only what this run made, by those names: the machine's own interfaces and routes
 * are never touched. Should the test process die before `dispose` (Ctrl-C, SIGKILL), a watchdog it
 * started deletes the same names. Needs root and iproute2's `ip netns`.
 */
export interface NamespaceHost {
  /** The `ip netns` name. */
  readonly namespace: string;
  /** Its IPv4 address on the bridge, as processes inside bind to it and everyone else dials it. */
  readonly address: string;
}

/** Hosts on one network; at most this many, so that their last octets stay below the broadcast address. */
const HOSTS_MAX = 200;
/** The first host gets `.10`, the next `.11`... (`.1` is the root namespace's address on the bridge). */
const HOST_OCTET_FIRST = 10;
/** Candidate networks are 10.77.K.0/24; K is drawn at random and must overlap no route on the machine. */
const NETWORK_PREFIX = '10.77';
/** Another run may pick the same /24 between our check and our claim: try this many before giving up. */
const SUBNET_ATTEMPTS_MAX = 5;
/** One `ip` command takes milliseconds; this only stops a hung one from hanging the test. */
const IP_TIMEOUT_MS = 15_000;
/** Where `ip netns` keeps its names; it makes this directory a mount point at its first `ip netns add`. */
const NETNS_DIR = '/run/netns';
/** Prefixes drawn before one is found that no namespace or link on the machine starts with. */
const PREFIX_ATTEMPTS_MAX = 10;

/**
 * The watchdog: a shell in a session of its own that reads its stdin until it closes, which happens
 * when the test process ends however it ends (Ctrl-C, SIGKILL, a crash), then deletes this run's
 * names. It runs no child while it waits, so `dispose` ends it by its PID once everything is gone.
 * Names are [a-z0-9] only, so word splitting is safe.
 */
const WATCHDOG_SCRIPT = `
while read -r line; do :; done
for name in $QQ_NAMESPACES; do ip netns delete "$name"; done 2> /dev/null
for name in $QQ_LINKS; do ip link delete dev "$name"; done 2> /dev/null
exit 0
`;

type Created = { readonly kind: 'namespace' | 'link'; readonly name: string };

export class NamespaceNetwork {
  /** The hosts, in the order asked for. */
  readonly hosts: NamespaceHost[] = [];
  /** The root namespace's address on the bridge: where traffic from this test process comes from. */
  rootAddress = '';
  /** What this run made and has not deleted yet, in the order it was made. */
  private readonly created: Created[] = [];
  private disposing: Promise<void> | undefined;
  private readonly bridge: string;
  private watchdog: ChildProcess | undefined;
  /** How `ip netns` found the machine: a run that made its directory or mount point undoes that too. */
  private readonly netnsDirExisted = existsSync(NETNS_DIR);
  private readonly netnsDirMounted = isMountPoint(NETNS_DIR);

  private constructor(readonly prefix: string) {
    this.bridge = `${prefix}br`;
  }

  /**
   * Makes `hostCount` namespaces on one bridge. Fails, leaving nothing behind, when not run as root,
   * when `ip netns` is missing, or when any step fails.
   */
  static async create(hostCount: number): Promise<NamespaceNetwork> {
    if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > HOSTS_MAX)
      throw new Error(`hostCount must be an integer from 1 to ${HOSTS_MAX}, not ${hostCount}`);
    await checkPrerequisites();
    const network = new NamespaceNetwork(await unusedPrefix());
    try {
      network.startWatchdog(hostCount);
      await network.build(hostCount);
    } catch (error) {
      await network.dispose().catch(() => undefined);
      throw error;
    }
    return network;
  }

  /**
   * Spawns `command` inside `host`'s namespace. `ip netns exec` switches namespace and then execs
   * the command (it does not fork), so the returned child's PID is the command's own: a signal sent
   * to it reaches the command, and `isInside` can check it.
   */
  spawn(host: NamespaceHost, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.namespace, command, ...args], options);
  }

  /** Whether process `pid` runs in `host`'s network namespace (its namespace file and the name's are one inode). */
  isInside(pid: number, host: NamespaceHost): boolean {
    return statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${host.namespace}`).ino;
  }

  /**
   * Deletes the namespaces, the veth pairs and the bridge this run made, each by its name. Safe to
   * call twice and after a failed `create`; what fails to go is reported, and a later call tries again.
   * Stop the processes inside first: a namespace with processes in it outlives its name.
   */
  dispose(): Promise<void> {
    this.disposing ??= this.deleteCreated().finally(() => (this.disposing = undefined));
    return this.disposing;
  }

  /** Before anything is made, so that nothing made can outlive the test process. */
  private startWatchdog(hostCount: number): void {
    const indexes = [...Array(hostCount).keys()];
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      QQ_NAMESPACES: indexes.map((index) => `${this.prefix}n${index}`).join(' '),
      QQ_LINKS: [...indexes.map((index) => `${this.prefix}h${index}`), this.bridge].join(' '),
    };
    const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env });
    watchdog.on('error', () => undefined);
    // Neither the watchdog nor its pipe keeps the test process alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void } | null)?.unref();
    this.watchdog = watchdog;
  }

  private async build(hostCount: number): Promise<void> {
    await ip(['link', 'add', 'name', this.bridge, 'type', 'bridge']);
    this.created.push({ kind: 'link', name: this.bridge });
    const third = await this.claimSubnet();
    await ip(['link', 'set', this.bridge, 'up']);
    for (let index = 0; index < hostCount; index++) {
      const host = { namespace: `${this.prefix}n${index}`, address: `${NETWORK_PREFIX}.${third}.${HOST_OCTET_FIRST + index}` };
      const outside = `${this.prefix}h${index}`;
      const inside = `${this.prefix}v${index}`;
      await ip(['netns', 'add', host.namespace]);
      this.created.push({ kind: 'namespace', name: host.namespace });
      // The inner end is born inside the namespace: it never exists, even briefly, among the machine's interfaces.
      await ip(['link', 'add', 'name', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', host.namespace]);
      this.created.push({ kind: 'link', name: outside });
      await ip(['link', 'set', outside, 'master', this.bridge, 'up']);
      await ip(['-n', host.namespace, 'address', 'add', `${host.address}/24`, 'dev', inside]);
      await ip(['-n', host.namespace, 'link', 'set', inside, 'up']);
      await ip(['-n', host.namespace, 'link', 'set', 'lo', 'up']);
      this.hosts.push(host);
    }
  }

  /**
   * Gives the bridge 10.77.K.1/24 for a K whose /24 overlaps no route on the machine (any table),
   * then checks that no other interface claimed the same /24 meanwhile; returns K.
   */
  private async claimSubnet(): Promise<number> {
    const tried = new Set<number>();
    for (let attempt = 0; attempt < SUBNET_ATTEMPTS_MAX; attempt++) {
      const routes = await this.routes();
      const free = [...Array(256).keys()].filter((third) => !tried.has(third) && !routes.some((route) => overlaps(route, subnetOf(third))));
      if (free.length === 0)
        throw new Error(`every ${NETWORK_PREFIX}.K.0/24 overlaps a route on this machine (ip route show table all); none is free for the test network`);
      const third = free[randomInt(free.length)]!;
      tried.add(third);
      const address = `${NETWORK_PREFIX}.${third}.1/24`;
      await ip(['address', 'add', address, 'dev', this.bridge]);
      const rivals = (await this.routes()).filter((route) => route.dev !== this.bridge && overlaps(route, subnetOf(third)));
      if (rivals.length === 0) {
        this.rootAddress = `${NETWORK_PREFIX}.${third}.1`;
        return third;
      }
      await ip(['address', 'del', address, 'dev', this.bridge]);
    }
    throw new Error(`found no ${NETWORK_PREFIX}.K.0/24 free of other routes in ${SUBNET_ATTEMPTS_MAX} attempts`);
  }

  /** Every IPv4 route in every table of the root namespace, as a range of addresses; default routes left out. */
  private async routes(): Promise<Route[]> {
    const listed = JSON.parse(await ip(['-4', '-json', 'route', 'show', 'table', 'all'])) as { dst?: string; dev?: string }[];
    return listed.flatMap((entry) => {
      const range = entry.dst === undefined || entry.dst === 'default' ? undefined : rangeOf(entry.dst);
      return range === undefined || range.bits === 0 ? [] : [{ ...range, dev: entry.dev }];
    });
  }

  private async deleteCreated(): Promise<void> {
    const failures: string[] = [];
    // Namespaces first (each takes its veth pair with it), then what is left of the links, the bridge last.
    const order = [...this.created.filter((item) => item.kind === 'namespace'), ...this.created.filter((item) => item.kind === 'link').reverse()];
    for (const item of order) {
      try {
        await ip(deleteCommand(item));
        this.forget(item);
      } catch (error) {
        if (isAlreadyGone(error)) this.forget(item);
        else failures.push(`${item.kind} ${item.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    // What failed to go stays with the watchdog, which tries again when the test process ends.
    if (failures.length > 0) throw new Error(`could not delete what the test network made: ${failures.join('; ')}`);
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
    await this.restoreNetnsDir();
  }

  /**
   * Unmounts and removes `/run/netns` when this run's `ip netns add` made it and it is empty again.
   * Safe beside other users of `ip netns`: the kernel refuses to unmount it while a namespace is
   * mounted inside, and rmdir refuses a directory that is not empty; either refusal leaves it be.
   */
  private async restoreNetnsDir(): Promise<void> {
    if (!existsSync(NETNS_DIR) || readdirSync(NETNS_DIR).length > 0) return;
    if (!this.netnsDirMounted && isMountPoint(NETNS_DIR)) {
      await new Promise<void>((resolve) => execFile('umount', [NETNS_DIR], { timeout: IP_TIMEOUT_MS }, () => resolve()));
    }
    if (!this.netnsDirExisted && !isMountPoint(NETNS_DIR)) {
      try {
        rmdirSync(NETNS_DIR);
      } catch {
        // Someone else's namespace arrived meanwhile: the directory is theirs now.
      }
    }
  }

  private forget(item: Created): void {
    const at = this.created.indexOf(item);
    if (at !== -1) this.created.splice(at, 1);
  }
}

/**
 * The addresses process `pid` has TCP sockets listening on, as `host:port`, read from its own network
 * namespace's view (`/proc/<pid>/net/tcp` and `tcp6`); IPv6 addresses in full, bracketed.
 */
export function listeningAddresses(pid: number): string[] {
  const listening: string[] = [];
  for (const family of ['tcp', 'tcp6'] as const) {
    const table = readFileSync(`/proc/${pid}/net/${family}`, 'utf8').split('\n').slice(1);
    for (const row of table) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (local === undefined || state !== TCP_LISTEN) continue;
      const [hex, port] = local.split(':') as [string, string];
      listening.push(`${family === 'tcp' ? ipv4Of(hex) : `[${ipv6Of(hex)}]`}:${Number.parseInt(port, 16)}`);
    }
  }
  return listening;
}

/** The kernel's state number for a listening socket in /proc/net/tcp. */
const TCP_LISTEN = '0A';

/** /proc/net/tcp writes an IPv4 address as one 32-bit word in host order (little-endian here). */
function ipv4Of(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  return [...bytes].reverse().join('.');
}

/** /proc/net/tcp6 writes an IPv6 address as four 32-bit words, each in host order. */
function ipv6Of(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  for (let word = 0; word < 16; word += 4) bytes.subarray(word, word + 4).reverse();
  return [...Array(8).keys()].map((group) => bytes.readUInt16BE(group * 2).toString(16)).join(':');
}

interface Route {
  readonly first: number;
  readonly last: number;
  readonly bits: number;
  readonly dev: string | undefined;
}

function deleteCommand(item: Created): string[] {
  return item.kind === 'namespace' ? ['netns', 'delete', item.name] : ['link', 'delete', 'dev', item.name];
}

/** `ip` says so when the thing to delete does not exist (a namespace took its veth pair along). */
function isAlreadyGone(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /Cannot find device|No such file or directory|does not exist/.test(message);
}

function subnetOf(third: number): { first: number; last: number } {
  const first = rangeOf(`${NETWORK_PREFIX}.${third}.0/24`)!.first;
  return { first, last: first + 255 };
}

function overlaps(a: { first: number; last: number }, b: { first: number; last: number }): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** `a.b.c.d/n` or `a.b.c.d` as the range of addresses it covers; undefined for anything else. */
function rangeOf(destination: string): { first: number; last: number; bits: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(destination);
  if (match === null) return undefined;
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  const octets = match.slice(1, 5).map(Number);
  if (bits > 32 || octets.some((octet) => octet > 255)) return undefined;
  const value = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  const first = Math.floor(value / size) * size;
  return { first, last: first + size - 1, bits };
}

/** Whether `path` is a mount point in this process's mount namespace. */
function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}

/** `qq` and 6 random hex digits that no namespace or link on the machine starts with. */
async function unusedPrefix(): Promise<string> {
  const names = `${await ip(['netns', 'list'])}\n${await ip(['-brief', 'link'])}`
    .split('\n')
    .map((line) => line.split(/[\s@]/)[0]!)
    .filter((name) => name !== '');
  for (let attempt = 0; attempt < PREFIX_ATTEMPTS_MAX; attempt++) {
    const prefix = `qq${randomBytes(3).toString('hex')}`;
    if (!names.some((name) => name.startsWith(prefix))) return prefix;
  }
  throw new Error(`drew ${PREFIX_ATTEMPTS_MAX} name prefixes and each is in use on this machine`);
}

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(`network namespace tests need root (they run ip netns and create interfaces); this process runs as uid ${String(process.getuid?.())}`);
  }
  try {
    await ip(['netns', 'list']);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`network namespace tests need iproute2's ip netns, which is unavailable here: ${message}`, { cause: error });
  }
}

/** Runs `ip` (no shell) and resolves what it printed; its failure carries its stderr. */
function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: IP_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new Error('the ip command (iproute2) is not installed or not on PATH', { cause: error }));
      reject(new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
  });
}
