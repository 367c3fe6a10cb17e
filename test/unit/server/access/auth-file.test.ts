import { describe, expect, it } from 'vitest';
import { AUTH_FILE_LIMITS, AuthFileError, generateToken, hashToken, parseAuthFile } from '../../../../src/server/access/auth-file.ts';

const DIGEST = 'a'.repeat(64);
const OTHER_DIGEST = 'b'.repeat(64);

function problemsOf(text: string): readonly string[] {
  try {
    parseAuthFile(text, 'tokens.json');
  } catch (error) {
    if (error instanceof AuthFileError) return error.problems;
    throw error;
  }
  throw new Error('expected an AuthFileError');
}

function fileWith(...tokens: unknown[]): string {
  return JSON.stringify({ tokens });
}

// Goal: a usable auth file parses into an immutable grant list; any mistake stops the node with
// every problem listed at its JSON path, because a half-read auth file grants the wrong things.
describe('auth file', () => {
  it('parses tokens, lowercasing digests and granting every queue when queues are omitted', () => {
    const file = parseAuthFile(
      fileWith(
        { name: 'jobs-app', sha256: 'ABCDEF'.padEnd(64, '0'), actions: ['produce', 'consume'], queues: ['jobs*'] },
        { name: 'ops@example.com', sha256: DIGEST, actions: ['admin'] },
      ),
      'tokens.json',
    );
    expect(file.tokens).toEqual([
      { name: 'jobs-app', sha256: 'abcdef'.padEnd(64, '0'), actions: ['produce', 'consume'], queues: ['jobs*'] },
      { name: 'ops@example.com', sha256: DIGEST, actions: ['admin'], queues: ['*'] },
    ]);
  });

  it('accepts an empty token list, which refuses every client', () => {
    expect(parseAuthFile('{"tokens":[]}', 'tokens.json').tokens).toEqual([]);
  });

  it('returns a structure that cannot be changed', () => {
    const file = parseAuthFile(fileWith({ name: 'a', sha256: DIGEST, actions: ['read'], queues: ['q'] }), 'tokens.json');
    const grant = file.tokens[0];
    expect(Object.isFrozen(file)).toBe(true);
    expect(Object.isFrozen(file.tokens)).toBe(true);
    expect(Object.isFrozen(grant)).toBe(true);
    expect(Object.isFrozen(grant?.actions)).toBe(true);
    expect(Object.isFrozen(grant?.queues)).toBe(true);
  });

  it('names the file and the JSON path in the message', () => {
    const text = fileWith(
      { name: 'a', sha256: DIGEST, actions: ['read'] },
      { name: 'b', sha256: OTHER_DIGEST, actions: ['read'] },
      { name: 'c', sha256: 'xyz', actions: ['read'] },
    );
    expect(() => parseAuthFile(text, 'tokens.json')).toThrow(/^auth file tokens\.json: tokens\[2\]\.sha256 must be 64 hex characters/);
    expect(() => parseAuthFile(text, 'tokens.json')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', fileName: 'tokens.json' }));
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(
      fileWith(
        { name: '', sha256: 'g'.repeat(64), actions: [] },
        { name: 'bad name', sha256: DIGEST.slice(1), actions: ['write', 'read', 'read'], queues: ['jobs/*', ''] },
        'not an object',
      ),
    );
    expect(problems).toEqual([
      'tokens[0].name must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ @ -',
      'tokens[0].sha256 must be 64 hex characters (the SHA-256 of the token)',
      'tokens[0].actions must be a non-empty array of distinct actions from produce, consume, read, admin',
      'tokens[1].name must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ @ -',
      'tokens[1].sha256 must be 64 hex characters (the SHA-256 of the token)',
      'tokens[1].actions[0] must be one of produce, consume, read, admin',
      'tokens[1].actions[2] repeats read',
      'tokens[1].queues[0] must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ - *',
      'tokens[1].queues[1] must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ - *',
      'tokens[2] must be an object',
    ]);
  });

  it('refuses repeated names and repeated digests, digests compared without case', () => {
    const problems = problemsOf(
      fileWith(
        { name: 'a', sha256: DIGEST, actions: ['read'] },
        { name: 'a', sha256: OTHER_DIGEST, actions: ['read'] },
        { name: 'c', sha256: DIGEST.toUpperCase(), actions: ['read'] },
      ),
    );
    expect(problems).toEqual(['tokens[1].name repeats the name "a"', 'tokens[2].sha256 repeats the digest of an earlier token']);
  });

  it('refuses unknown keys, since a misspelt "queues" would grant every queue', () => {
    const problems = problemsOf(JSON.stringify({ tokens: [{ name: 'a', sha256: DIGEST, actions: ['read'], queue: ['jobs*'] }], extra: 1 }));
    expect(problems).toEqual([
      'the file has an unknown key "extra"; the keys are tokens',
      'tokens[0] has an unknown key "queue"; the keys are name, sha256, actions, queues',
    ]);
  });

  it('refuses an empty queue list rather than guess between none and all', () => {
    expect(problemsOf(fileWith({ name: 'a', sha256: DIGEST, actions: ['read'], queues: [] }))).toEqual([
      'tokens[0].queues must be an array of 1 to 256 patterns (omit it for all queues)',
    ]);
  });

  it('bounds the number of tokens, of patterns and their lengths', () => {
    const tooManyPatterns = Array.from({ length: AUTH_FILE_LIMITS.patternsPerTokenMax + 1 }, (_, index) => `q${index}`);
    expect(problemsOf(fileWith({ name: 'a', sha256: DIGEST, actions: ['read'], queues: tooManyPatterns }))).toEqual([
      'tokens[0].queues must be an array of 1 to 256 patterns (omit it for all queues)',
    ]);
    expect(problemsOf(fileWith({ name: 'a'.repeat(129), sha256: DIGEST, actions: ['read'], queues: ['q'.repeat(129)] }))).toHaveLength(2);
    const manyTokens = Array.from({ length: AUTH_FILE_LIMITS.tokensMax + 1 }, () => ({}));
    expect(problemsOf(fileWith(...manyTokens))).toEqual(['tokens has 10001 entries; the limit is 10000']);
  });

  it('accepts the most tokens allowed', () => {
    const tokens = Array.from({ length: AUTH_FILE_LIMITS.tokensMax }, (_, index) => ({ name: `t${index}`, sha256: hashToken(`t${index}`), actions: ['read'] }));
    expect(parseAuthFile(fileWith(...tokens), 'tokens.json').tokens).toHaveLength(AUTH_FILE_LIMITS.tokensMax);
  });

  it('lists at most a bounded number of problems and counts the rest', () => {
    const tokens = Array.from({ length: 300 }, () => 'x');
    const error = (() => {
      try {
        parseAuthFile(fileWith(...tokens), 'tokens.json');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AuthFileError);
    expect((error as AuthFileError).problems).toHaveLength(AUTH_FILE_LIMITS.problemsListedMax);
    expect((error as AuthFileError).message).toMatch(/; and 200 more problems$/);
  });

  it('refuses text that is not JSON, or not the expected shape', () => {
    expect(problemsOf('{"tokens": [')[0]).toMatch(/^the file is not valid JSON/);
    expect(problemsOf('[]')).toEqual(['the file must hold a JSON object { "tokens": [...] }']);
    expect(problemsOf('{}')).toEqual(['tokens must be an array']);
    expect(problemsOf('{"tokens": {}}')).toEqual(['tokens must be an array']);
  });
});

describe('tokens and their digests', () => {
  it('hashes the UTF-8 bytes of the token to lowercase hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('é')).toBe(hashToken('\u00e9'));
    expect(hashToken('é')).not.toBe(hashToken('e\u0301'));
  });

  it('makes prefixed 256-bit base64url tokens that differ each time', () => {
    const tokens = Array.from({ length: 50 }, () => generateToken());
    for (const token of tokens) expect(token).toMatch(/^qq_[A-Za-z0-9_-]{43}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('makes tokens whose digests an auth file accepts', () => {
    const token = generateToken();
    const file = parseAuthFile(fileWith({ name: 'a', sha256: hashToken(token), actions: ['read'] }), 'tokens.json');
    expect(file.tokens[0]?.sha256).toBe(hashToken(token));
  });
});
