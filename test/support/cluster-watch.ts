import { expect } from 'vitest';
import { type TestCluster, waitFor } from '../integration/cluster-harness.ts';

/**
 * What the attack tests check around every attack: which nodes still run, what each node believes
 * (term, leader, members), and that messages acknowledged before the attack are all still there.
 */

export interface NodeBelief {
  readonly index: number;
  readonly id: string;
  readonly term: number;
  readonly leader: string | undefined;
  readonly members: readonly string[];
  readonly appliedIndex: number;
}

/** Indexes of the nodes whose process has exited since they were started. */
export function deadNodes(test: TestCluster): number[] {
  const dead: number[] = [];
  test.cluster.nodes.forEach((node, index) => {
    const child = node.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) dead.push(index);
  });
  return dead;
}

/** Each live node's own view (`/cluster?stale=1`); a node that does not answer is left out. */
export async function beliefs(test: TestCluster): Promise<NodeBelief[]> {
  const views: NodeBelief[] = [];
  for (let index = 0; index < test.cluster.nodes.length; index++) {
    if (deadNodes(test).includes(index)) continue;
    const reply = await test.request(index, 'GET', '/cluster?stale=1').catch(() => undefined);
    if (reply?.status !== 200) continue;
    const body = reply.body as { self: { id: string; term: number; appliedIndex: number }; leader: { id: string } | null; members: { id: string }[] };
    views.push({
      index,
      id: body.self.id,
      term: body.self.term,
      leader: body.leader?.id,
      members: body.members.map((member) => member.id),
      appliedIndex: body.self.appliedIndex,
    });
  }
  return views;
}

/** The term and leader every node agrees on, once they do (an election may be ending). */
export async function settledLeadership(test: TestCluster, timeoutMs = 20_000): Promise<{ term: number; leader: string; leaderIndex: number }> {
  let last: NodeBelief[] = [];
  return waitFor(
    async () => {
      const views = await beliefs(test);
      last = views;
      if (views.length !== test.cluster.nodes.length - deadNodes(test).length || views.length === 0) return undefined;
      const first = views[0]!;
      if (first.leader === undefined || views.some((view) => view.term !== first.term || view.leader !== first.leader)) return undefined;
      const leaderIndex = views.find((view) => view.id === first.leader)?.index;
      return leaderIndex === undefined ? undefined : { term: first.term, leader: first.leader, leaderIndex };
    },
    timeoutMs,
    'every live node agreeing on one term and leader',
  ).catch((error: unknown) => {
    const seen = last.map((view) => `node ${view.index}: term ${view.term}, leader ${view.leader ?? 'none'}`).join('; ');
    throw new Error(`${String(error)}; dead nodes [${deadNodes(test).join(', ')}]; last seen: ${seen}\n${test.tail(20)}`);
  });
}

/** Node ids by index, read once from each node. */
export async function nodeIds(test: TestCluster): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < test.cluster.nodes.length; index++) {
    const reply = await test.request(index, 'GET', '/cluster?stale=1');
    ids.push((reply.body as { self: { id: string } }).self.id);
  }
  return ids;
}

/** A set of messages acknowledged (201) before the attacks, to be found intact after each. */
export interface KeptMessages {
  readonly queue: string;
  readonly ids: readonly string[];
}

export async function keepMessages(test: TestCluster, queue: string, count: number): Promise<KeptMessages> {
  const ids: string[] = [];
  for (let number = 0; number < count; number++) {
    const { id } = await test.enqueue(0, queue, { kept: number }, `${queue}-${number}`);
    ids.push(id);
  }
  return { queue, ids };
}

/**
 * The kept messages are all still ready (asked of the leader, linearizably), and every live node
 * has applied all of them and nothing removed any (its own stale view agrees on the count).
 */
export async function expectIntact(test: TestCluster, kept: KeptMessages): Promise<void> {
  const leader = await test.waitForLeader();
  for (const id of kept.ids) {
    const status = await test.request(leader, 'GET', `/queues/${kept.queue}/messages/${id}`);
    expect(status.status, `kept message ${id}: ${JSON.stringify(status.body)}`).toBe(200);
    expect(status.body.state).toBe('ready');
  }
  const commit = (await test.request(leader, 'GET', '/cluster?stale=1')).body.self.commitIndex as number;
  for (let index = 0; index < test.cluster.nodes.length; index++) {
    if (deadNodes(test).includes(index)) continue;
    // A follower applies up to one tick after the leader: wait for it to reach the leader's commit.
    await waitFor(
      async () => {
        const view = await test.request(index, 'GET', '/cluster?stale=1');
        return view.body.self.appliedIndex >= commit ? true : undefined;
      },
      15_000,
      `node ${index} applying up to ${commit}`,
    );
    const stats = await test.request(index, 'GET', `/queues/${kept.queue}?stale=1`);
    expect(stats.body.ready, `node ${index}'s own count of ${kept.queue}`).toBe(kept.ids.length);
  }
}

/** An enqueue answered 201 by node `index` (retrying an election's 503s with one dedupId). */
export async function expectServes(test: TestCluster, index: number, what: string): Promise<void> {
  const answer = await test.enqueue(index, 'alive', { after: what }, `alive-${what}-${index}-${Date.now()}`);
  expect(answer.id).toBeTypeOf('string');
}
