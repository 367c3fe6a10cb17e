/**
 * Partitions through the nodes' fault-injection admin routes (nodes must run with
 * --enable-fault-injection). A cut is made on both ends, so it holds whichever side sends.
 */
export async function cut(from: string, to: readonly string[]): Promise<void> {
  await admin(from, '/admin/faults', { blockSendTo: to });
  await Promise.all(to.map((peer) => admin(peer, '/admin/faults', { blockReceiveFrom: [from] })));
}

export async function partition(target: string, others: readonly string[], oneWay: boolean): Promise<void> {
  await cut(target, others);
  if (!oneWay) for (const peer of others) await cut(peer, [target]);
}

export async function healAll(addresses: readonly string[]): Promise<void> {
  await Promise.all(addresses.map((address) => admin(address, '/admin/faults/heal', {}).catch(() => undefined)));
}

/** The address of the node the reachable nodes name as leader, if any. */
export async function findLeader(addresses: readonly string[]): Promise<string | undefined> {
  for (const address of addresses) {
    try {
      const response = await fetch(`http://${address}/cluster?stale=1`, { signal: AbortSignal.timeout(1000) });
      const view = (await response.json()) as { leader: { address: string | null } | null };
      if (view.leader?.address) return view.leader.address;
    } catch {
      // that node is down or paused: ask the next
    }
  }
  return undefined;
}

/** A POST to a node's fault-injection admin routes; throws unless it succeeds. */
export async function admin(address: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`http://${address}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  });
  if (!response.ok) throw new Error(`${address}${path}: ${response.status} ${await response.text()}`);
}
