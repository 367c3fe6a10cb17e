import { ClusterError } from '../shared/index.ts';

/**
 * Named crash points on the durability path (RELIABILITY #20): a test build dies exactly between
 * two steps whose order matters, the way a power cut or kill -9 would, and the restart shows whether
 * recovery copes. Unset, nothing is wrapped and nothing is counted.
 */
export const FAILPOINT_NAMES = [
  'before-vote-sync',
  'after-vote-sync',
  'before-append-sync',
  'after-append-sync',
  'before-snapshot-save',
  'after-snapshot-save',
  'before-snapshot-install',
  'after-snapshot-install',
  'before-apply',
  'after-apply',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/** The only action so far: die at once, without flushing or closing anything. */
export type FailpointAction = 'crash';

export interface FailpointSpec {
  readonly name: FailpointName;
  readonly action: FailpointAction;
  /** The hit that fires, counting from 1. */
  readonly onHit: number;
}

export const FAILPOINTS_ENV = 'QUORUMQ_FAILPOINTS';

/**
 * Parses `name=crash[,name=crash@N...]`. Everything is checked before the node starts: a misspelt
 * point would otherwise never fire and the test that relies on it would pass without testing.
 */
export function parseFailpoints(text: string): FailpointSpec[] {
  const specs: FailpointSpec[] = [];
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const match = /^([a-z-]+)=([a-z]+)(?:@(\d+))?$/.exec(item);
    if (match === null) invalid(`"${item}" is not name=crash or name=crash@N`);
    const [, name, action, hit] = match;
    if (!isFailpointName(name!)) invalid(`unknown failpoint "${name}"; known: ${FAILPOINT_NAMES.join(', ')}`);
    if (action !== 'crash') invalid(`unknown action "${action}" for ${name}; known: crash`);
    const onHit = hit === undefined ? 1 : Number(hit);
    if (!Number.isSafeInteger(onHit) || onHit < 1) invalid(`${name}: the hit count must be 1 or more`);
    if (specs.some((spec) => spec.name === name)) invalid(`failpoint ${name} is given twice`);
    specs.push({ name, action, onHit });
  }
  return specs;
}

export function isFailpointName(name: string): name is FailpointName {
  return (FAILPOINT_NAMES as readonly string[]).includes(name);
}

function invalid(message: string): never {
  throw new ClusterError('INVALID_CONFIG', `${FAILPOINTS_ENV}: ${message}`);
}

/** SIGKILL to ourselves: no exit handlers, no flush, no close; the kernel keeps only what was written. */
function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not stop the process');
}

/** The configured points, with a count of hits each. */
export class Failpoints {
  private readonly hits = new Map<FailpointName, number>();
  private readonly armed: Map<FailpointName, FailpointSpec>;

  constructor(
    specs: readonly FailpointSpec[],
    private readonly crash: (name: FailpointName) => void = crashNow,
  ) {
    this.armed = new Map(specs.map((spec) => [spec.name, spec]));
  }

  /**
   * The points named in the environment, or undefined when none are and none may be armed later
   * (`armable`: fault injection is on): then nothing pays for them.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env, armable = false): Failpoints | undefined {
    const text = env[FAILPOINTS_ENV];
    if ((text === undefined || text.trim() === '') && !armable) return undefined;
    return new Failpoints(parseFailpoints(text ?? ''));
  }

  /** Arms `spec` from now on: its hit count restarts, so `onHit` counts hits after this call. */
  arm(spec: FailpointSpec): void {
    this.armed.set(spec.name, spec);
    this.hits.delete(spec.name);
  }

  disarmAll(): void {
    this.armed.clear();
    this.hits.clear();
  }

  describe(): FailpointSpec[] {
    return [...this.armed.values()];
  }

  has(name: FailpointName): boolean {
    return this.armed.has(name);
  }

  hit(name: FailpointName): void {
    const spec = this.armed.get(name);
    if (spec === undefined) return;
    const count = (this.hits.get(name) ?? 0) + 1;
    this.hits.set(name, count);
    if (count === spec.onHit) this.crash(name);
  }
}
