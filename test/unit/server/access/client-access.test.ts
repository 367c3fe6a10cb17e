import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../../src/server/access/access-policy.ts';
import { hashToken, parseAuthFile } from '../../../../src/server/access/auth-file.ts';
import { BodyBudget } from '../../../../src/server/access/body-budget.ts';
import { ClientAccess } from '../../../../src/server/access/client-access.ts';
import { ConnectionLimits } from '../../../../src/server/access/connection-limits.ts';
import type { ClientRequest } from '../../../../src/shared/index.ts';

const silent = pino({ level: 'silent' });
const policy = new AccessPolicy(
  parseAuthFile(
    JSON.stringify({
      tokens: [
        { name: 'app', sha256: hashToken('app-token'), actions: ['produce', 'consume'], queues: ['jobs*'] },
        { name: 'ops', sha256: hashToken('ops-token'), actions: ['admin'], queues: ['jobs*'] },
        { name: 'root', sha256: hashToken('root-token'), actions: ['admin'] },
      ],
    }),
    'auth.json',
  ),
);

function codeOf(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

// Goal: each operation needs the right it should, on the queue it names, and nothing else.
describe('client access', () => {
  const access = new ClientAccess(policy, silent);
  const app = access.authenticate('Bearer app-token', '127.0.0.1');
  const ops = access.authenticate('Bearer ops-token', '127.0.0.1');
  const root = access.authenticate('Bearer root-token', '127.0.0.1');

  it('refuses a missing or unknown token with UNAUTHORIZED', () => {
    expect(codeOf(() => access.authenticate(undefined, 'x'))).toBe('UNAUTHORIZED');
    expect(codeOf(() => access.authenticate('Bearer nope', 'x'))).toBe('UNAUTHORIZED');
    expect(codeOf(() => access.authenticateToken(42, 'x'))).toBe('UNAUTHORIZED');
    expect(access.authenticateToken('app-token', 'x').principal.name).toBe('app');
  });

  it('maps each operation to its action on its queue', () => {
    const cases: [ClientRequest | { op: 'subscribe'; queue: string; prefetch: number }, string | undefined, string | undefined][] = [
      [{ op: 'enqueue', queue: 'jobs.a', messages: [], batch: false }, undefined, undefined],
      [{ op: 'enqueue', queue: 'other', messages: [], batch: false }, 'FORBIDDEN', 'FORBIDDEN'],
      [{ op: 'receive', queue: 'jobs.a', max: 1, waitMs: 0 }, undefined, undefined],
      [{ op: 'subscribe', queue: 'jobs.a', prefetch: 1 }, undefined, undefined],
      [{ op: 'purge', queue: 'jobs.a' }, 'FORBIDDEN', undefined],
      [{ op: 'configure', queue: 'jobs.a', config: {} }, 'FORBIDDEN', undefined],
      [{ op: 'getQueue', queue: 'jobs.a', stale: true }, 'FORBIDDEN', undefined],
      [{ op: 'listQueues', stale: true }, 'FORBIDDEN', undefined],
      [{ op: 'cluster', stale: true }, undefined, undefined],
    ];
    for (const [request, forApp, forOps] of cases) {
      expect(
        codeOf(() => access.authorize(app, request)),
        `app ${request.op}`,
      ).toBe(forApp);
      expect(
        codeOf(() => access.authorize(ops, request)),
        `ops ${request.op}`,
      ).toBe(forOps);
    }
  });

  it('lets only a token with admin on every name inject faults', () => {
    expect(codeOf(() => access.authorizeNode(ops, 'admin', 'faults'))).toBe('FORBIDDEN');
    expect(codeOf(() => access.authorizeNode(root, 'admin', 'faults'))).toBeUndefined();
    expect(codeOf(() => access.authorizeNode(ops, 'read', 'metrics'))).toBeUndefined();
    expect(codeOf(() => access.authorizeNode(app, 'read', 'metrics'))).toBe('FORBIDDEN');
  });

  it('lets everyone do everything without an auth file', () => {
    const open = new ClientAccess(undefined, silent);
    const anyone = open.authenticate(undefined, 'x');
    expect(codeOf(() => open.authorize(anyone, { op: 'purge', queue: 'q' }))).toBeUndefined();
    expect(codeOf(() => open.authorizeNode(anyone, 'admin', 'faults'))).toBeUndefined();
  });
});

describe('body budget', () => {
  it('takes bytes only while they fit, and gets them back', () => {
    const budget = new BodyBudget(100);
    expect(budget.take(60)).toBe(true);
    expect(budget.take(50)).toBe(false);
    expect(budget.heldBytes).toBe(60);
    budget.giveBack(60);
    expect(budget.take(100)).toBe(true);
  });
});

describe('connection limits', () => {
  /** Enough of a socket for the limits: an address, destroy, and close. */
  function socketFrom(remoteAddress: string): Socket & { destroyed: boolean } {
    const socket = Object.assign(new EventEmitter(), {
      remoteAddress,
      destroyed: false,
      destroy() {
        socket.destroyed = true;
        socket.emit('close');
      },
    });
    return socket as unknown as Socket & { destroyed: boolean };
  }

  it('closes connections past the limit per address and in all, and counts closed ones out', () => {
    const refused: string[] = [];
    const limits = new ConnectionLimits({ connectionsMax: 3, connectionsPerAddressMax: 2, onRefused: (remote) => refused.push(remote) });
    const a1 = socketFrom('10.0.0.1');
    const a2 = socketFrom('10.0.0.1');
    const a3 = socketFrom('10.0.0.1');
    for (const socket of [a1, a2, a3]) limits.admit(socket);
    expect([a1.destroyed, a2.destroyed, a3.destroyed]).toEqual([false, false, true]);
    const b1 = socketFrom('10.0.0.2');
    const b2 = socketFrom('10.0.0.2');
    limits.admit(b1);
    limits.admit(b2);
    expect([b1.destroyed, b2.destroyed]).toEqual([false, true]);
    expect(refused).toEqual(['10.0.0.1', '10.0.0.2']);
    a1.emit('close');
    const a4 = socketFrom('10.0.0.1');
    limits.admit(a4);
    expect(a4.destroyed).toBe(false);
    expect(limits.open).toBe(3);
  });
});
