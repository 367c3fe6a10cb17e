// `quorumq status`: every member as the cluster and each member itself see it.
import type { Context, Output } from './command-context.ts';
import type { NodeApi } from './node-api.ts';
import { cell, table } from './text-output.ts';

interface MemberView {
  readonly id: string;
  readonly address: string | null;
  readonly state: string;
  readonly voter: boolean;
  readonly raft?: string | null;
  readonly connected?: boolean;
  readonly matchIndex?: number;
  /** Absent from releases before the version gate. */
  readonly release?: { readonly version: string; readonly clusterVersionMax: number };
}

interface ClusterView {
  readonly self: { readonly id: string; readonly role: string; readonly term: number; readonly commitIndex: number; readonly appliedIndex: number };
  readonly leader: { readonly id: string; readonly address: string | null } | null;
  readonly members: readonly MemberView[];
  /** Absent from releases before the version gate (they run cluster version 1). */
  readonly clusterVersion?: number;
}

/** A member's own word about itself: a short wait, since a silent node is what `status` is there to show. */
const MEMBER_TIMEOUT_MS = 2_000;

/**
 * `status`: the members as the first node that answers knows them; the leader's view for how far
 * each has replicated (`lag`: entries behind the leader's last); each member's own view (role, term,
 * applied index) and `/health`. Every view is the answering node's own (`?stale=1`), so that status
 * works best when something is wrong: no leader, a member down.
 */
export async function status({ api }: Context): Promise<Output> {
  const first = await api.send('GET', '/cluster?stale=1', 'idempotent');
  const view = first.body as ClusterView;
  const leaderView =
    view.self.role === 'leader'
      ? view
      : view.leader?.address
        ? await ownView(api, api.memberUrl(view.leader.address)).then((own) => (own?.self.role === 'leader' ? own : undefined))
        : undefined;
  const leaderLast = leaderView?.members.find((member) => member.id === leaderView.self.id)?.matchIndex;
  const members = await Promise.all(
    view.members.map(async (member) => {
      const url = member.address === null ? undefined : api.memberUrl(member.address);
      const [own, health] = url === undefined ? [undefined, undefined] : await Promise.all([ownView(api, url), healthOf(api, url)]);
      const matchIndex = leaderView?.members.find((other) => other.id === member.id)?.matchIndex;
      // Its own word about its release; a node that answers without one runs a release from before the gate.
      const release = own === undefined ? null : (own.members.find((other) => other.id === member.id)?.release?.version ?? 'before 0.3');
      return {
        id: member.id,
        address: member.address,
        role: own?.self.role ?? null,
        term: own?.self.term ?? null,
        appliedIndex: own?.self.appliedIndex ?? null,
        raft: member.raft ?? (member.voter ? 'voter' : null),
        voter: member.voter,
        state: member.state,
        connected: member.connected ?? null,
        matchIndex: matchIndex ?? null,
        lag: matchIndex === undefined || leaderLast === undefined ? null : leaderLast - matchIndex,
        release,
        health: health ?? { ok: false, reason: 'no address known' },
      };
    }),
  );
  const json = {
    leader: view.leader,
    term: leaderView?.self.term ?? view.self.term,
    commitIndex: leaderView?.self.commitIndex ?? null,
    clusterVersion: leaderView?.clusterVersion ?? view.clusterVersion ?? 1,
    answeredBy: { id: view.self.id, server: first.server.host },
    members,
  };
  const headline =
    view.leader === null
      ? `no leader known to ${view.self.id} (term ${view.self.term})`
      : `leader ${view.leader.id}${view.leader.address === null ? '' : ` at ${view.leader.address}`}, term ${json.term}${
          json.commitIndex === null ? '' : `, commit index ${json.commitIndex}`
        }, cluster version ${json.clusterVersion}`;
  const rows = members.map((member) => [
    member.id,
    cell(member.address),
    cell(member.role),
    cell(member.raft),
    member.state,
    cell(member.appliedIndex),
    cell(member.matchIndex),
    cell(member.lag),
    cell(member.release),
    member.health.ok ? `ok (${member.health.reason})` : `DOWN: ${member.health.reason}`,
  ]);
  return { json, text: `${headline}\n${table(['ID', 'ADDRESS', 'ROLE', 'RAFT', 'GOSSIP', 'APPLIED', 'MATCH', 'LAG', 'RELEASE', 'HEALTH'], rows)}` };
}

async function ownView(api: NodeApi, url: URL): Promise<ClusterView | undefined> {
  return api
    .sendTo(url, 'GET', '/cluster?stale=1', MEMBER_TIMEOUT_MS)
    .then((reply) => (reply.status === 200 ? (reply.body as ClusterView) : undefined))
    .catch(() => undefined);
}

async function healthOf(api: NodeApi, url: URL): Promise<{ ok: boolean; reason: string }> {
  try {
    const reply = await api.sendTo(url, 'GET', '/health', MEMBER_TIMEOUT_MS);
    const reason = (reply.body as { reason?: unknown } | undefined)?.reason;
    return { ok: reply.status === 200, reason: typeof reason === 'string' ? reason : `status ${reply.status}` };
  } catch (error) {
    return { ok: false, reason: `unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
