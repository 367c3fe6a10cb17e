/**
 * Who is asking, and may they do this? Built once from the parsed auth file; answers per request
 * without building anything from request text, so a request cannot make the check slow.
 */
import { assert } from '../../shared/index.ts';
import { type Action, type AuthFile, hashToken, type TokenGrant } from './auth-file.ts';

export type { Action } from './auth-file.ts';

export const ACCESS_LIMITS = {
  /** A token's length; ours are 46 characters, the bound leaves room for tokens made by other tools. */
  tokenLengthMax: 512,
  /** A whole Authorization header: the scheme, the spaces and the token. */
  authorizationLengthMax: 1024,
  /** A queue or topic name to check; longer names are not names, and this bounds the matcher's work. */
  resourceLengthMax: 1024,
} as const;

/** Someone who presented a known token. */
export interface Principal {
  /** The token's name in the auth file, for logs and audit. */
  readonly name: string;
  /**
   * May this principal do `action` on `resource` (a queue or topic name)? Without a resource the
   * action is checked for the node as a whole (`read` for /metrics, `admin` for fault injection):
   * true when the token has the action, or `admin`, for any pattern at all.
   */
  may(action: Action, resource?: string): boolean;
}

// One scheme, case-insensitive (RFC 9110 §11.1), then spaces, then visible ASCII: RFC 6750's b64token
// is narrower, but tokens made by other tools may use any visible character, and none is ambiguous here.
// Spaces and visible characters are disjoint, so this constant pattern matches in linear time.
const BEARER_PATTERN = /^bearer +([\x21-\x7e]+)$/i;
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

/**
 * A queue or topic name pattern: `*` matches any run of characters (none included), every other
 * character is itself. Compiled once into the literal pieces between stars, then matched by
 * finding each piece left to right at its earliest place. Taking the earliest place is always
 * safe (a later place leaves less room for the pieces after it), so nothing is ever retried: the
 * work is at most the name's length times the pattern's, where a backtracking RegExp built from
 * the pattern could take exponential time on a pattern like `*a*a*a*a*b`.
 */
export class NamePattern {
  readonly source: string;
  /** The whole pattern when it has no star; else undefined. */
  private readonly exact: string | undefined;
  /** Before the first star. */
  private readonly prefix: string;
  /** After the last star. */
  private readonly suffix: string;
  /** Between stars, empty pieces (from `**`) dropped. */
  private readonly pieces: readonly string[];
  private readonly nameLengthMin: number;

  constructor(source: string) {
    assert(source.length > 0, 'a name pattern is not empty');
    this.source = source;
    const parts = source.split('*');
    const prefix = parts[0];
    const suffix = parts[parts.length - 1];
    assert(prefix !== undefined && suffix !== undefined, 'split returns at least one part');
    this.exact = parts.length === 1 ? source : undefined;
    this.prefix = prefix;
    this.suffix = suffix;
    this.pieces = Object.freeze(parts.slice(1, -1).filter((piece) => piece.length > 0));
    this.nameLengthMin = prefix.length + suffix.length + this.pieces.reduce((sum, piece) => sum + piece.length, 0);
  }

  matches(name: string): boolean {
    if (this.exact !== undefined) return name === this.exact;
    // Also keeps the prefix and the suffix from overlapping in a short name.
    if (name.length < this.nameLengthMin) return false;
    if (!name.startsWith(this.prefix) || !name.endsWith(this.suffix)) return false;
    const end = name.length - this.suffix.length;
    let cursor = this.prefix.length;
    for (const piece of this.pieces) {
      const at = name.indexOf(piece, cursor);
      if (at === -1 || at + piece.length > end) return false;
      cursor = at + piece.length;
    }
    return true;
  }
}

class TokenPrincipal implements Principal {
  readonly name: string;
  private readonly actions: ReadonlySet<Action>;
  private readonly patterns: readonly NamePattern[];

  constructor(grant: TokenGrant) {
    assert(grant.actions.length > 0, `token ${grant.name} has at least one action`);
    assert(grant.queues.length > 0, `token ${grant.name} has at least one queue pattern`);
    this.name = grant.name;
    this.actions = new Set(grant.actions);
    this.patterns = Object.freeze(grant.queues.map((pattern) => new NamePattern(pattern)));
  }

  may(action: Action, resource?: string): boolean {
    const granted = this.actions.has(action) || this.actions.has('admin');
    if (!granted) return false;
    if (resource === undefined) return this.patterns.length > 0;
    if (resource.length > ACCESS_LIMITS.resourceLengthMax) return false;
    return this.patterns.some((pattern) => pattern.matches(resource));
  }
}

/** Turns a request's credentials into a Principal, or into nothing (a 401). */
export class AccessPolicy {
  /**
   * Keyed by the token's hex SHA-256, never by the token. A Map lookup compares strings and may
   * stop at the first differing character, so its timing can tell a caller how much of the key
   * they got right. That key is the digest of the caller's own guess, which they cannot choose: to
   * probe one more hex character of a stored digest they must hash 16 times more guesses to find
   * one whose digest starts as wanted, and even a whole digest does not give back a token with 256
   * random bits. So the timing leaks nothing usable, with no constant-time compare per token.
   */
  private readonly principals: ReadonlyMap<string, Principal>;

  constructor(authFile: AuthFile) {
    const principals = new Map<string, Principal>();
    for (const grant of authFile.tokens) {
      // The parser lowercased and deduplicated digests; a lookup by hashToken depends on both.
      assert(SHA256_HEX_PATTERN.test(grant.sha256), `token ${grant.name} has a lowercase hex SHA-256`);
      assert(!principals.has(grant.sha256), `token ${grant.name} has a digest no other token has`);
      principals.set(grant.sha256, new TokenPrincipal(grant));
    }
    assert(principals.size === authFile.tokens.length, 'one principal per token');
    this.principals = principals;
  }

  /** Accepts exactly `Bearer <token>`; anything else, or an unknown token, is undefined. */
  authenticate(authorizationHeader: string | undefined): Principal | undefined {
    if (authorizationHeader === undefined) return undefined;
    if (authorizationHeader.length > ACCESS_LIMITS.authorizationLengthMax) return undefined;
    const token = BEARER_PATTERN.exec(authorizationHeader)?.[1];
    if (token === undefined) return undefined;
    return this.authenticateToken(token);
  }

  /** For a token that came without the header, such as in a WebSocket `auth` frame. */
  authenticateToken(token: string): Principal | undefined {
    if (token.length === 0 || token.length > ACCESS_LIMITS.tokenLengthMax) return undefined;
    if (!TOKEN_PATTERN.test(token)) return undefined;
    return this.principals.get(hashToken(token));
  }
}
