import { type NodeAccess, nodeRequest } from '../../cluster/node-http.ts';

/**
 * Partitions through the nodes' fault-injection admin routes (nodes must run with
 * --enable-fault-injection). A cut is made on both ends, so it holds whichever side sends.
 * `access`: the CA and admin token of a secured cluster (fault routes need `admin` on every queue).
 */
export async function cut(from: string, to: readonly string[], access: NodeAccess = {}): Promise<void> {
  await admin(from, '/admin/faults', { blockSendTo: to }, access);
  await Promise.all(to.map((peer) => admin(peer, '/admin/faults', { blockReceiveFrom: [from] }, access)));
}

export async function partition(target: string, others: readonly string[], oneWay: boolean, access: NodeAccess = {}): Promise<void> {
  await cut(target, others, access);
  if (!oneWay) for (const peer of others) await cut(peer, [target], access);
}

export async function healAll(addresses: readonly string[], access: NodeAccess = {}): Promise<void> {
  await Promise.all(addresses.map((address) => admin(address, '/admin/faults/heal', {}, access).catch(() => undefined)));
}

/** The address of the node the reachable nodes name as leader, if any. */
export async function findLeader(addresses: readonly string[], access: NodeAccess = {}): Promise<string | undefined> {
  for (const address of addresses) {
    try {
      const reply = await nodeRequest(address, '/cluster?stale=1', access, { timeoutMs: 1000 });
      const view = JSON.parse(reply.text) as { leader: { address: string | null } | null };
      if (view.leader?.address) return view.leader.address;
    } catch {
      // that node is down, paused or refused us: ask the next
    }
  }
  return undefined;
}

/** A POST to a node's fault-injection admin routes; throws unless it succeeds. */
export async function admin(address: string, path: string, body: unknown, access: NodeAccess = {}): Promise<void> {
  const reply = await nodeRequest(address, path, access, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 2000,
  });
  if (reply.status < 200 || reply.status > 299) throw new Error(`${address}${path}: ${reply.status} ${reply.text}`);
}
