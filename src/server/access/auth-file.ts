/**
 * The auth file names who may talk to this node and what each may do. It is read once at start,
 * so every mistake in it is reported at once, each with its JSON path, and the node refuses to
 * start: a half-understood auth file would silently grant or deny the wrong things.
 *
 * The file holds SHA-256 digests, never tokens, so that reading it (a backup, a config repo, a
 * support bundle) does not hand out credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ClusterError } from '../../shared/index.ts';

export const ACTIONS = ['produce', 'consume', 'read', 'admin'] as const;

/** What a token may do; `admin` implies the other three. */
export type Action = (typeof ACTIONS)[number];

export const AUTH_FILE_LIMITS = {
  /** The whole file: far above any real file, low enough that a wrong path (a log, a dump) is refused before it is parsed. */
  fileCharactersMax: 64 * 1024 * 1024,
  tokensMax: 10_000,
  nameLengthMax: 128,
  patternsPerTokenMax: 256,
  patternLengthMax: 128,
  /** Problems listed in the error; the rest are counted, so a wrong file does not yield a megabyte message. */
  problemsListedMax: 100,
} as const;

/** One token's grant, as read from the file; immutable. */
export interface TokenGrant {
  /** Who holds the token, for logs and audit; unique in the file. */
  readonly name: string;
  /** Lowercase hex SHA-256 of the token; unique in the file. */
  readonly sha256: string;
  /** Non-empty, without repeats. */
  readonly actions: readonly Action[];
  /** Queue and topic name patterns where `*` matches any run of characters; `["*"]` when the file omits them. */
  readonly queues: readonly string[];
}

/** The parsed auth file; immutable. */
export interface AuthFile {
  readonly tokens: readonly TokenGrant[];
}

/** The auth file cannot be used; `problems` lists what is wrong, each with its JSON path. */
export class AuthFileError extends ClusterError<'INVALID_CONFIG'> {
  readonly fileName: string;
  readonly problems: readonly string[];

  constructor(fileName: string, problems: readonly string[], problemsUnlisted: number) {
    const more = problemsUnlisted > 0 ? `; and ${problemsUnlisted} more problems` : '';
    super('INVALID_CONFIG', `auth file ${fileName}: ${problems.join('; ')}${more}`);
    this.name = 'AuthFileError';
    this.fileName = fileName;
    this.problems = Object.freeze([...problems]);
  }
}

const NAME_PATTERN = /^[A-Za-z0-9._@-]+$/;
const QUEUE_PATTERN_PATTERN = /^[A-Za-z0-9._*-]+$/;
const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;
const TOKEN_KEYS: ReadonlySet<string> = new Set(['name', 'sha256', 'actions', 'queues']);
const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(['tokens']);
const TOKEN_PREFIX = 'qq_';
const TOKEN_RANDOM_BYTES = 32;

/** Hex SHA-256 of the UTF-8 token: what the auth file stores, and what a request's token is looked up by. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A new random token: 256 bits from the system's secure source, base64url so that it fits a header
 * unquoted, and prefixed so that secret scanners and people recognise it. For docs, tools and tests.
 */
export function generateToken(): string {
  const token = TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
  return token;
}

/** Collects problems up to a bound, counting the rest. */
class Problems {
  readonly listed: string[] = [];
  unlisted = 0;

  add(path: string, problem: string): void {
    if (this.listed.length < AUTH_FILE_LIMITS.problemsListedMax) this.listed.push(`${path} ${problem}`);
    else this.unlisted += 1;
  }
}

/** Parses and validates the auth file's text; throws one AuthFileError listing every problem found. */
export function parseAuthFile(text: string, fileName: string): AuthFile {
  const problems = new Problems();
  const tokens = tokensOf(text, problems);
  const grants: TokenGrant[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const [index, raw] of tokens.entries()) {
    const grant = tokenGrant(raw, `tokens[${index}]`, problems);
    if (grant === undefined) continue;
    // Two entries for one name or one digest mean a copy-paste slip: which grant was meant?
    if (names.has(grant.name)) problems.add(`tokens[${index}].name`, `repeats the name ${JSON.stringify(grant.name)}`);
    if (digests.has(grant.sha256)) problems.add(`tokens[${index}].sha256`, 'repeats the digest of an earlier token');
    names.add(grant.name);
    digests.add(grant.sha256);
    grants.push(grant);
  }
  if (problems.listed.length > 0) throw new AuthFileError(fileName, problems.listed, problems.unlisted);
  return Object.freeze({ tokens: Object.freeze(grants) });
}

function tokensOf(text: string, problems: Problems): readonly unknown[] {
  if (text.length > AUTH_FILE_LIMITS.fileCharactersMax) {
    problems.add('the file', `is over ${AUTH_FILE_LIMITS.fileCharactersMax} characters`);
    return [];
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    problems.add('the file', `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    return [];
  }
  if (!isPlainObject(root)) {
    problems.add('the file', 'must hold a JSON object { "tokens": [...] }');
    return [];
  }
  unknownKeys(root, TOP_LEVEL_KEYS, 'the file', problems);
  const tokens = root.tokens;
  if (!Array.isArray(tokens)) {
    problems.add('tokens', 'must be an array');
    return [];
  }
  // An empty list is allowed: it refuses every client, which is what an operator revoking all tokens means.
  if (tokens.length > AUTH_FILE_LIMITS.tokensMax) {
    problems.add('tokens', `has ${tokens.length} entries; the limit is ${AUTH_FILE_LIMITS.tokensMax}`);
    return [];
  }
  return tokens;
}

function tokenGrant(raw: unknown, path: string, problems: Problems): TokenGrant | undefined {
  if (!isPlainObject(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  const before = problems.listed.length + problems.unlisted;
  // An unknown key is most likely a misspelt one, and a misspelt "queues" would silently grant every queue.
  unknownKeys(raw, TOKEN_KEYS, path, problems);
  const name = tokenName(raw.name, `${path}.name`, problems);
  const sha256 = tokenDigest(raw.sha256, `${path}.sha256`, problems);
  const actions = tokenActions(raw.actions, `${path}.actions`, problems);
  const queues = raw.queues === undefined ? ['*'] : tokenPatterns(raw.queues, `${path}.queues`, problems);
  const after = problems.listed.length + problems.unlisted;
  if (after > before || name === undefined || sha256 === undefined || actions === undefined || queues === undefined) return undefined;
  return Object.freeze({ name, sha256, actions: Object.freeze(actions), queues: Object.freeze(queues) });
}

function tokenName(raw: unknown, path: string, problems: Problems): string | undefined {
  const lengthMax = AUTH_FILE_LIMITS.nameLengthMax;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > lengthMax || !NAME_PATTERN.test(raw)) {
    problems.add(path, `must be a string of 1 to ${lengthMax} characters from A-Z a-z 0-9 . _ @ -`);
    return undefined;
  }
  return raw;
}

function tokenDigest(raw: unknown, path: string, problems: Problems): string | undefined {
  if (typeof raw !== 'string' || !SHA256_PATTERN.test(raw)) {
    problems.add(path, 'must be 64 hex characters (the SHA-256 of the token)');
    return undefined;
  }
  // Lowercase once here, because requests are looked up by the lowercase hex that hashToken returns.
  return raw.toLowerCase();
}

function tokenActions(raw: unknown, path: string, problems: Problems): Action[] | undefined {
  const expected = `must be a non-empty array of distinct actions from ${ACTIONS.join(', ')}`;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > ACTIONS.length) {
    problems.add(path, expected);
    return undefined;
  }
  const actions: Action[] = [];
  for (const [index, action] of raw.entries()) {
    if (!isAction(action)) problems.add(`${path}[${index}]`, `must be one of ${ACTIONS.join(', ')}`);
    else if (actions.includes(action)) problems.add(`${path}[${index}]`, `repeats ${action}`);
    else actions.push(action);
  }
  return actions.length === raw.length ? actions : undefined;
}

function tokenPatterns(raw: unknown, path: string, problems: Problems): string[] | undefined {
  const countMax = AUTH_FILE_LIMITS.patternsPerTokenMax;
  // Empty is refused rather than read as "no queues": omitting the key means all queues, and the two are too easily confused.
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > countMax) {
    problems.add(path, `must be an array of 1 to ${countMax} patterns (omit it for all queues)`);
    return undefined;
  }
  const lengthMax = AUTH_FILE_LIMITS.patternLengthMax;
  const patterns: string[] = [];
  for (const [index, pattern] of raw.entries()) {
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > lengthMax || !QUEUE_PATTERN_PATTERN.test(pattern)) {
      problems.add(`${path}[${index}]`, `must be a string of 1 to ${lengthMax} characters from A-Z a-z 0-9 . _ - *`);
    } else if (patterns.includes(pattern)) {
      problems.add(`${path}[${index}]`, `repeats ${pattern}`);
    } else {
      patterns.push(pattern);
    }
  }
  return patterns.length === raw.length ? patterns : undefined;
}

function unknownKeys(object: Record<string, unknown>, known: ReadonlySet<string>, path: string, problems: Problems): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) problems.add(path, `has an unknown key ${JSON.stringify(key.slice(0, 40))}; the keys are ${[...known].join(', ')}`);
  }
}

function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
