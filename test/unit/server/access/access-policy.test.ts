import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessPolicy, type Action, NamePattern } from '../../../../src/server/access/access-policy.ts';
import { generateToken, hashToken, parseAuthFile } from '../../../../src/server/access/auth-file.ts';

const JOBS_TOKEN = generateToken();
const ADMIN_TOKEN = generateToken();
const READER_TOKEN = generateToken();

const policy = new AccessPolicy(
  parseAuthFile(
    JSON.stringify({
      tokens: [
        { name: 'jobs-app', sha256: hashToken(JOBS_TOKEN), actions: ['produce', 'consume'], queues: ['jobs*'] },
        { name: 'ops', sha256: hashToken(ADMIN_TOKEN).toUpperCase(), actions: ['admin'] },
        { name: 'dashboard', sha256: hashToken(READER_TOKEN), actions: ['read'], queues: ['audit.*.log', 'billing'] },
      ],
    }),
    'tokens.json',
  ),
);

const ACTIONS: readonly Action[] = ['produce', 'consume', 'read', 'admin'];

/** The reference: every character escaped but `*`, which becomes `.*`, anchored at both ends. */
function referenceRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

// Goal: a request is tied to the token's name only by an exact Bearer header with a known token,
// and a principal may do only what its grant lists, on the queues its patterns match.
describe('access policy: authentication', () => {
  it('knows a token by its Bearer header, the scheme in any case, after one or more spaces', () => {
    expect(policy.authenticate(`Bearer ${JOBS_TOKEN}`)?.name).toBe('jobs-app');
    expect(policy.authenticate(`bearer ${JOBS_TOKEN}`)?.name).toBe('jobs-app');
    expect(policy.authenticate(`BEARER   ${JOBS_TOKEN}`)?.name).toBe('jobs-app');
    expect(policy.authenticate(`Bearer ${ADMIN_TOKEN}`)?.name).toBe('ops');
  });

  it('knows nobody by a wrong or missing token', () => {
    expect(policy.authenticate(undefined)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${generateToken()}`)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${JOBS_TOKEN}x`)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${JOBS_TOKEN.toUpperCase()}`)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${hashToken(JOBS_TOKEN)}`)).toBeUndefined();
  });

  it('refuses malformed Authorization headers', () => {
    for (const header of [
      '',
      'Bearer',
      'Bearer ',
      `Basic ${JOBS_TOKEN}`,
      'Basic x',
      `Bearer ${JOBS_TOKEN} b`,
      'Bearer a b',
      `Bearer\t${JOBS_TOKEN}`,
      `Bearer${JOBS_TOKEN}`,
      ` Bearer ${JOBS_TOKEN}`,
      `Bearer ${JOBS_TOKEN} `,
      `Bearer ${JOBS_TOKEN}\n`,
      `Token ${JOBS_TOKEN}`,
    ]) {
      expect(policy.authenticate(header), JSON.stringify(header)).toBeUndefined();
    }
  });

  it('bounds the token and the header', () => {
    const longToken = 'x'.repeat(513);
    expect(policy.authenticateToken(longToken)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${longToken}`)).toBeUndefined();
    expect(policy.authenticate(`Bearer ${' '.repeat(2000)}${JOBS_TOKEN}`)).toBeUndefined();
  });

  it('takes a bare token, as a WebSocket auth frame carries it', () => {
    expect(policy.authenticateToken(READER_TOKEN)?.name).toBe('dashboard');
    expect(policy.authenticateToken('')).toBeUndefined();
    expect(policy.authenticateToken(`${READER_TOKEN} `)).toBeUndefined();
    expect(policy.authenticateToken('tökén')).toBeUndefined();
  });

  it('finds a token whose digest the file wrote in uppercase', () => {
    expect(policy.authenticateToken(ADMIN_TOKEN)?.name).toBe('ops');
  });
});

describe('access policy: authorization', () => {
  const jobs = policy.authenticateToken(JOBS_TOKEN);
  const admin = policy.authenticateToken(ADMIN_TOKEN);
  const reader = policy.authenticateToken(READER_TOKEN);

  it('lets a token do its actions on the queues its patterns match', () => {
    expect(jobs?.may('produce', 'jobs')).toBe(true);
    expect(jobs?.may('consume', 'jobs-emails')).toBe(true);
    expect(reader?.may('read', 'audit.eu.log')).toBe(true);
    expect(reader?.may('read', 'audit..log')).toBe(true);
    expect(reader?.may('read', 'billing')).toBe(true);
  });

  it('keeps a token for jobs* away from other queues', () => {
    expect(jobs?.may('produce', 'other')).toBe(false);
    expect(jobs?.may('consume', 'xjobs')).toBe(false);
    expect(jobs?.may('produce', 'Jobs')).toBe(false);
    expect(reader?.may('read', 'billing2')).toBe(false);
    expect(reader?.may('read', 'audit.log')).toBe(false);
  });

  it('keeps a token to the actions it lists', () => {
    expect(jobs?.may('read', 'jobs')).toBe(false);
    expect(jobs?.may('admin', 'jobs')).toBe(false);
    expect(reader?.may('produce', 'billing')).toBe(false);
  });

  it('lets admin do every action on every queue', () => {
    for (const action of ACTIONS) {
      expect(admin?.may(action, 'anything')).toBe(true);
      expect(admin?.may(action)).toBe(true);
    }
  });

  it('checks a node-wide action by whether the token has it for any pattern', () => {
    expect(reader?.may('read')).toBe(true);
    expect(reader?.may('admin')).toBe(false);
    expect(jobs?.may('produce')).toBe(true);
    expect(jobs?.may('read')).toBe(false);
  });

  it('refuses a resource name too long to be a name', () => {
    expect(admin?.may('read', 'q'.repeat(1025))).toBe(false);
  });
});

describe('name patterns', () => {
  it('match literally except for stars', () => {
    expect(new NamePattern('*').matches('')).toBe(true);
    expect(new NamePattern('a.b').matches('aXb')).toBe(false);
    expect(new NamePattern('a*a').matches('a')).toBe(false);
    expect(new NamePattern('a*a').matches('aa')).toBe(true);
    expect(new NamePattern('**x**').matches('x')).toBe(true);
    expect(new NamePattern('*ab*ab').matches('abab')).toBe(true);
    expect(new NamePattern('*ab*ab').matches('aba')).toBe(false);
  });

  it('stay fast on patterns that make a backtracking matcher slow', () => {
    const pattern = new NamePattern(`${'*a'.repeat(60)}*b`);
    const started = performance.now();
    for (let round = 0; round < 100; round += 1) expect(pattern.matches('a'.repeat(1000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('agree with an escaped, anchored RegExp on generated patterns and names', () => {
    // A small alphabet makes matches common, so both outcomes are well exercised.
    const character = fc.constantFrom('a', 'b', '.', '-', '_');
    const pattern = fc.array(fc.oneof(character, fc.constant('*')), { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''));
    const name = fc.array(character, { maxLength: 16 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(pattern, name, (source, candidate) => {
        expect(new NamePattern(source).matches(candidate)).toBe(referenceRegExp(source).test(candidate));
      }),
      { numRuns: 5000 },
    );
  });

  it('agree with the reference when names are built to match', () => {
    const literal = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 4 });
    const shape = fc.array(fc.record({ literal, filler: literal }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(shape, (parts) => {
        const source = parts.map((part) => part.literal).join('*') || '*';
        const candidate = parts.map((part) => part.literal).join(parts[0]?.filler ?? '');
        const expected = referenceRegExp(source).test(candidate);
        expect(expected).toBe(true);
        expect(new NamePattern(source).matches(candidate)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
