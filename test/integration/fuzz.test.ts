import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../cluster/free-ports.ts';
import { makeSecureSetup } from '../../cluster/secure-setup.ts';
import {
  type ClientFuzzInput,
  type ClientTallies,
  clientInput,
  frameBytes,
  isSlow,
  newClientTallies,
  ReplyLink,
  replyIdOf,
  sendClosingFrame,
  sendRawWebSocket,
} from '../fuzz-support/client-fuzz.ts';
import { ClusterGuard, type ClusterSelf, HousekeepingClient } from '../fuzz-support/cluster-guard.ts';
import { Findings, logLineProblem } from '../fuzz-support/findings.ts';
import { describeInput, generate, inputSeed } from '../fuzz-support/fuzz-inputs.ts';
import { judgeHttp, sendHttp } from '../fuzz-support/http-answers.ts';
import { type HttpFuzzInput, httpRequestArbitrary } from '../fuzz-support/http-fuzz.ts';
import { acceptedFrame, frameKind, type PeerContext, type PeerFrameInput, peerFrameBytes, peerFrameInput } from '../fuzz-support/peer-fuzz.ts';
import { runStranger, type StrangerInput, strangerInput } from '../fuzz-support/stranger-peers.ts';
import { RawPeer } from '../support/raw-peer.ts';
import { clusterForSuite, GiveUp, type TestCluster, waitFor } from './cluster-harness.ts';

// Goal (issue 19, "Must show"): no input from the network crashes a node or touches acknowledged
// data. fast-check generates hostile HTTP requests, client WebSocket frames, and peer frames from
// strangers without the cluster key and from a peer with it, against one real 3-node cluster with
// a cluster key. After every batch: no node process exited or logged a failure, every node answers
// and takes an enqueue, and the 50 messages acknowledged before fuzzing began are intact on every
// replica. Each run draws a seed (printed; QUORUMQ_FUZZ_SEED replays it) and sends
// QUORUMQ_FUZZ_FRAMES inputs in all (default 10,400), shared among the four kinds. Every input is
// drawn from its own seed (run seed, kind, batch, position), so a replay makes the same choices;
// what depends on the cluster (ports, node ids, terms) follows the new cluster. A failing input is
// shrunk by fast-check from its own seed, printed with the failure. A crash, a cluster that stops
// serving or a changed acknowledged set ends the run at once; a broken contract or a failure a node
// logs is a finding, and the kind's test fails with all of them once its batches are done.

// A fixed seed by default, so that CI replays the same inputs run after run; soaks pass their own.
const SEED = process.env.QUORUMQ_FUZZ_SEED === undefined ? 20261207 : Number(process.env.QUORUMQ_FUZZ_SEED);
const FRAMES_TOTAL = Number(process.env.QUORUMQ_FUZZ_FRAMES ?? 10_400);
/** Each kind's share of the inputs, and how many one batch sends before the cluster is checked. */
const KINDS = {
  http: { share: 0.3, batch: 1_000, stream: 1 },
  client: { share: 0.35, batch: 1_200, stream: 2 },
  stranger: { share: 0.1, batch: 400, stream: 3 },
  keyed: { share: 0.25, batch: 700, stream: 4 },
} as const;
type Kind = keyof typeof KINDS;
const targetOf = (kind: Kind) => Math.ceil(FRAMES_TOTAL * KINDS[kind].share);
/**
 * QUORUMQ_FUZZ_ONLY=keyed (or a comma-separated list) runs only those kinds, with the same seeds
 * and batches as a full run of the same QUORUMQ_FUZZ_SEED and QUORUMQ_FUZZ_FRAMES: a failure replays faster.
 */
const ONLY = new Set((process.env.QUORUMQ_FUZZ_ONLY ?? 'http,client,stranger,keyed').split(',').map((kind) => kind.trim()));
const runs = (kind: Kind) => ONLY.has(kind);

/** Deadlines for conditions, never timing assertions: a long poll may be held 20 s, an election takes a few. */
const ANSWER_WITHIN_MS = 25_000;
const INCOMPLETE_WAIT_MS = 1_000;
const CLOSE_WITHIN_MS = 10_000;
const RECOVER_WITHIN_MS = 45_000;
const HTTP_CONCURRENCY = 8;
const CLOSING_CONCURRENCY = 4;
const STRANGER_CONCURRENCY = 8;

const KNOWN_COUNT = 50;
/** The guarded queue: a name no generator produces (their valid names come from QUEUE_POOL). */
const GUARDED_QUEUE = `guarded-${(SEED >>> 0).toString(16)}`;
const PROBE_QUEUE = `probe-${(SEED >>> 0).toString(16)}`;
const CANARY_QUEUE = `canary-${(SEED >>> 0).toString(16)}`;
const CANARY_MEMBER = `canary-member-${(SEED >>> 0).toString(16)}`;

/** A per-kind timeout for `it`: generous, as the machine is shared; conditions inside have their own deadlines. */
const timeoutFor = (kind: Kind) => 180_000 + targetOf(kind) * 40;

interface Sent {
  readonly seed: number;
  readonly text: string;
}

describe('fuzzing real nodes with hostile input', () => {
  let clusterKey = '';
  const suite = clusterForSuite(3, [], async (dataRoot) => {
    const setup = await makeSecureSetup(dataRoot, { clusterKey: true });
    clusterKey = readFileSync(setup.files.clusterKey!, 'utf8').trim();
    return setup;
  });
  let test: TestCluster;
  let guard: ClusterGuard;
  const known: { id: string; body: unknown }[] = [];
  const counts: Record<Kind, number> = { http: 0, client: 0, stranger: 0, keyed: 0 };
  const recent: Sent[] = [];
  const httpClasses = new Map<string, number>();
  const clientTallies: ClientTallies = newClientTallies();
  const peerTallies = new Map<string, number>();
  const findings = new Findings();
  let probeSerial = 0;
  /** Queues housekeeping found but cannot delete (see deleteFuzzQueues), each reported once. */
  const orphanQueues = new Set<string>();
  /** Set when a node crashed or the cluster stopped serving: later tests would only wait on it, and are skipped. */
  let broken: string | undefined;
  const started = Date.now();

  const tally = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const remember = (seed: number, input: unknown) => {
    recent.push({ seed, text: describeInput(input, 400) });
    if (recent.length > 12) recent.shift();
  };

  beforeAll(async () => {
    test = suite();
    guard = new ClusterGuard(test);
    console.log(
      `fuzz: seed ${SEED} (QUORUMQ_FUZZ_SEED=${SEED} replays it), ${FRAMES_TOTAL} inputs: ${(Object.keys(KINDS) as Kind[]).map((kind) => `${kind} ${targetOf(kind)}`).join(', ')}`,
    );
    // The acknowledged set: enqueued through every node, each acknowledged (201) before fuzzing starts.
    for (let index = 0; index < KNOWN_COUNT; index++) {
      const body = { known: index, seed: SEED, pad: 'k'.repeat(index * 7) };
      const { id } = await test.enqueue(index % 3, GUARDED_QUEUE, body, `known-${index}`);
      known.push({ id, body });
    }
  }, 120_000);

  afterAll(() => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${counts.http} http, ${counts.client} client frames, ${counts.stranger} peer frames without key, ${counts.keyed} with key; ${guard?.exits.length ?? 0} node crashes (seed ${SEED}, ${seconds} s)`,
    );
    console.log(`fuzz: http answers ${JSON.stringify(Object.fromEntries(httpClasses))}`);
    console.log(
      `fuzz: client replies ${clientTallies.replies} (${clientTallies.errorReplies} errors: ${JSON.stringify(Object.fromEntries(clientTallies.codes))}), pushes ${clientTallies.pushes}, closes ${JSON.stringify(Object.fromEntries(clientTallies.closes))}, ` +
        `unexpected closes ${clientTallies.unexpectedCloses}, raw WebSocket connections closed by the node ${clientTallies.rawWebSocketCloses}`,
    );
    console.log(`fuzz: peer frames ${JSON.stringify(Object.fromEntries([...peerTallies].sort()))}`);
    for (const finding of findings.all())
      console.log(
        `fuzz: finding (${finding.stream}, ${finding.count}x, first in batch ${finding.batch}, input seed ${finding.seed ?? '-'}): ${finding.problem}`,
      );
  });

  /** Ends the run with everything needed to replay: seeds, the batch, the last inputs, the nodes' bad lines. */
  function failure(kind: Kind | 'final', batch: number, problem: string, extra = ''): Error {
    const lines = test.lines.filter((line) => /"level":(50|60)/.test(line) || !/^\[\d+\] (\{|\s*$)/.test(line)).slice(-30);
    return new Error(
      [
        `fuzz ${kind} batch ${batch} (run seed ${SEED}; QUORUMQ_FUZZ_SEED=${SEED} replays the run): ${problem}`,
        extra,
        'last inputs sent (input seed: input):',
        ...recent.map((sent) => `  ${sent.seed}: ${sent.text}`),
        'node lines at error level and above, and lines that are no JSON:',
        ...lines,
        'last node lines (refusals the audit log notes left out):',
        ...test.lines
          .filter((line) => !line.includes('"audit":"refused"'))
          .slice(-40)
          .map((line) => line.slice(0, 600)),
      ].join('\n'),
    );
  }

  function fatal(error: Error): Error {
    broken ??= error.message.split('\n')[0];
    return error;
  }

  /** Skips a test once an earlier one broke the cluster, saying which failure did. */
  function skipIfBroken(context: { skip: (note?: string) => void }): void {
    if (broken !== undefined) context.skip(`skipped: an earlier test broke the cluster (${broken.slice(0, 300)})`);
  }

  /**
   * After every batch: no crash, no bad log line, every node answers and takes an enqueue, the
   * acknowledged set is whole on every replica; then the queues fuzzing made are deleted.
   */
  async function checkCluster(kind: Kind | 'final', batch: number): Promise<ClusterSelf[]> {
    const crashes = guard.crashes();
    if (crashes.length > 0) throw fatal(failure(kind, batch, `node crash: ${crashes.join('; ')}`));
    // A failure a node logged is a finding; the run goes on while the nodes do.
    for (const line of guard.newBadLines()) findings.add(kind, batch, logLineProblem(line), undefined, line.slice(0, 2000));
    try {
      await guard.everyNodeAnswers(RECOVER_WITHIN_MS);
      await test.waitForLeader(RECOVER_WITHIN_MS);
      for (let index = 0; index < 3; index++) await probeEnqueue(index);
      await checkKnownSet();
      await deleteFuzzQueues(kind, batch);
    } catch (error) {
      const crashesNow = guard.crashes();
      throw fatal(failure(kind, batch, crashesNow.length > 0 ? `node crash: ${crashesNow.join('; ')}` : String(error), await diagnose()));
    }
    const crashesAfter = guard.crashes();
    if (crashesAfter.length > 0) throw fatal(failure(kind, batch, `node crash: ${crashesAfter.join('; ')}`));
    return guard.everyNodeAnswers(RECOVER_WITHIN_MS);
  }

  /** What each node believes, in a line: for a failure that is no crash (the cluster stopped serving). */
  async function diagnose(): Promise<string> {
    const views: string[] = [];
    for (let index = 0; index < test.cluster.nodes.length; index++) {
      const reply = await test
        .request(index, 'GET', '/cluster?stale=1')
        .catch((error: unknown) => ({ status: 0, body: String(error) }) as { status: number; body: any });
      const view = reply.body as ClusterSelf | string;
      if (typeof view !== 'object' || view === null || view.self === undefined) {
        views.push(`node ${index}: ${reply.status} ${JSON.stringify(view).slice(0, 300)}`);
        continue;
      }
      const members = view.members
        .map(
          (member) =>
            `${member.id.slice(0, 16)}:${member.raft}:${member.state}${member.matchIndex === undefined ? '' : `@${member.matchIndex}`} at ${member.address ?? '-'}${member.inGossip === false ? ' (not in gossip)' : ''}`,
        )
        .join(' ');
      views.push(
        `node ${index} ${view.self.id} ${view.self.role} term ${view.self.term} commit ${view.self.commitIndex} applied ${view.self.appliedIndex} leader ${view.leader?.id ?? '-'} at ${view.leader?.address ?? '-'}; members ${members}`,
      );
    }
    return `what each node believes:\n${views.join('\n')}`;
  }

  /**
   * An enqueue through node `index` answers 201 within the deadline: retried with the same dedupId
   * while the node answers 503/504 (an election), so it is never doubled. The last answer is in
   * the error when it never comes.
   */
  async function probeEnqueue(index: number): Promise<void> {
    const dedupId = `probe-${probeSerial++}`;
    let last = 'no answer';
    await waitFor(
      async () => {
        const reply = await test.request(index, 'POST', `/queues/${PROBE_QUEUE}/messages`, { body: { probe: dedupId }, dedupId });
        last = `${reply.status} ${JSON.stringify(reply.body)}`;
        if (reply.status === 201) return true;
        if (reply.status === 503 || reply.status === 504) return undefined;
        throw new GiveUp(`an enqueue through node ${index} answered ${last}`);
      },
      RECOVER_WITHIN_MS,
      `an enqueue through node ${index}`,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; its last answer: ${last}`);
    });
  }

  /** Every replica's own stats of the guarded queue, a linearizable read, and a sample of the messages. */
  async function checkKnownSet(): Promise<void> {
    for (let index = 0; index < 3; index++) {
      // A follower applies up to a tick after the leader: wait for it, then require the exact figures.
      const stats = await waitFor(
        async () => {
          const reply = await test.request(index, 'GET', `/queues/${GUARDED_QUEUE}?stale=1`);
          return reply.status === 200 && reply.body.ready === KNOWN_COUNT ? reply.body : undefined;
        },
        RECOVER_WITHIN_MS,
        `node ${index} to hold the ${KNOWN_COUNT} known messages ready`,
      ).catch(async (error: unknown) => {
        const reply = await test.request(index, 'GET', `/queues/${GUARDED_QUEUE}?stale=1`).catch(() => undefined);
        throw new Error(`${String(error)}; node ${index} says ${reply?.status} ${JSON.stringify(reply?.body)}`);
      });
      expect(stats, `node ${index}'s stats of the guarded queue`).toMatchObject({
        ready: KNOWN_COUNT,
        inflight: 0,
        delayed: 0,
        dead: 0,
        acked: 0,
        enqueued: KNOWN_COUNT,
      });
    }
    const linearizable = await waitFor(
      async () => {
        const reply = await test.request(0, 'GET', `/queues/${GUARDED_QUEUE}`);
        return reply.status === 200 ? reply.body : undefined;
      },
      RECOVER_WITHIN_MS,
      'a linearizable read of the guarded queue',
    );
    expect(linearizable).toMatchObject({ ready: KNOWN_COUNT, inflight: 0, delayed: 0, dead: 0, acked: 0 });
    for (const { id } of [known[probeSerial % KNOWN_COUNT]!, known[(probeSerial * 7) % KNOWN_COUNT]!]) {
      const reply = await test.request(probeSerial % 3, 'GET', `/queues/${GUARDED_QUEUE}/messages/${id}?stale=1`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id, state: 'ready' });
    }
  }

  /** Deletes every queue but the guarded one, so that state stays bounded however long a soak runs. */
  async function deleteFuzzQueues(kind: Kind | 'final', batch: number): Promise<void> {
    const leader = await test.waitForLeader(RECOVER_WITHIN_MS);
    const client = await HousekeepingClient.open(test.cluster.nodes[leader]!.address);
    try {
      const listing = await client.call({ op: 'listQueues' });
      if (!listing.ok) throw new Error(`listQueues answered ${JSON.stringify(listing.error)}`);
      for (const queue of listing.result.queues as { name: string }[]) {
        if (queue.name === GUARDED_QUEUE) continue;
        const deleted = await client.call({ op: 'delete', queue: queue.name });
        if (deleted.ok || deleted.error?.code === 'NOT_FOUND') continue;
        // A queue the node made whose name no request may use (a dead-letter queue named after a
        // 128-character queue) cannot be deleted, read or drained: a finding, not the end of the run.
        if (deleted.error?.code !== 'INVALID_QUEUE_NAME') throw new Error(`deleting ${queue.name} answered ${JSON.stringify(deleted.error)}`);
        // Reported where it first appeared; it stays, and later batches are not to blame.
        if (!orphanQueues.has(queue.name))
          findings.add(
            kind,
            batch,
            `the queue listing holds a queue no request may name (${queue.name.length} characters, ending ${JSON.stringify(queue.name.slice(-12))})`,
          );
        orphanQueues.add(queue.name);
      }
    } finally {
      client.close();
    }
  }

  /**
   * Runs `send` over the inputs of one batch with at most `concurrency` in flight. Inputs are made
   * one by one from their own seeds, so any one of them can be replayed and shrunk alone.
   */
  async function runBatch<T>(
    kind: Kind,
    batch: number,
    size: number,
    arbitrary: fc.Arbitrary<T>,
    concurrency: number,
    send: (input: T, seed: number) => Promise<void>,
  ): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < size) {
        const position = next++;
        const seed = inputSeed(SEED, KINDS[kind].stream, batch, position);
        const input = generate(arbitrary, seed);
        remember(seed, input);
        await send(input, seed);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /**
   * Shrinks a failing input with fast-check, replaying from its own seed against the live cluster,
   * and returns fast-check's report (the smallest input found, and its seed and path).
   */
  async function shrink<T>(arbitrary: fc.Arbitrary<T>, seed: number, fails: (input: T) => Promise<string | undefined>): Promise<string> {
    if (guard.crashes().length > 0) return '(not shrunk: a node crashed, replay the input against a fresh cluster)';
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (input) => {
        const problem = await fails(input);
        if (problem !== undefined) throw new Error(problem);
      }),
      { seed, numRuns: 1, endOnFailure: false, interruptAfterTimeLimit: 120_000 },
    );
    if (!details.failed) return '(the input passed when replayed alone)';
    return `shrunk by fast-check (seed ${seed}, path ${details.counterexamplePath}): ${describeInput(details.counterexample?.[0], 2000)}\n  ${String(details.errorInstance).slice(0, 500)}`;
  }

  /**
   * Ends a kind's test: shrinks the first input of each problem found (up to three), and fails
   * with all of them, their seeds, and what fast-check shrank them to.
   */
  async function settle<T>(kind: Kind, arbitrary: fc.Arbitrary<T> | undefined, fails: ((input: T) => Promise<string | undefined>) | undefined): Promise<void> {
    const found = findings.of(kind);
    if (found.length === 0) return;
    const reports: string[] = [];
    for (const [position, finding] of found.entries()) {
      let report = `- ${finding.count}x, first in batch ${finding.batch}${finding.seed === undefined ? '' : `, input seed ${finding.seed}`}: ${finding.problem}`;
      if (finding.input !== undefined) report += `\n  input: ${describeInput(finding.input, 1500)}`;
      if (finding.seed !== undefined && arbitrary !== undefined && fails !== undefined && position < 3)
        report += `\n  ${await shrink(arbitrary, finding.seed, fails)}`;
      reports.push(report);
    }
    throw failure(kind, -1, `${found.length} kinds of problem found`, reports.join('\n'));
  }

  it.runIf(runs('http'))(
    'answers hostile HTTP requests with well-formed responses, never a 500, and never crashes',
    async (testContext) => {
      skipIfBroken(testContext);
      const arbitrary = httpRequestArbitrary(test.cluster.nodes.map((node) => node.port));
      const judgeOne = async (request: HttpFuzzInput): Promise<string | undefined> => {
        const outcome = await sendHttp(test.cluster.nodes[request.node]!.address, request, {
          answerWithinMs: ANSWER_WITHIN_MS,
          incompleteWaitMs: INCOMPLETE_WAIT_MS,
        });
        const verdict = judgeHttp(request, outcome);
        if ('problem' in verdict) return verdict.problem;
        const upgrade = request.headers.some(([name]) => name.toLowerCase() === 'upgrade') ? ' upgrade' : '';
        tally(
          httpClasses,
          outcome.kind === 'response' ? `${outcome.response.status} ${verdict.verdict}` : `${verdict.verdict} (${request.method.slice(0, 10)}${upgrade})`,
        );
        return undefined;
      };
      for (let batch = 0; counts.http < targetOf('http'); batch++) {
        const size = Math.min(KINDS.http.batch, targetOf('http') - counts.http);
        await runBatch('http', batch, size, arbitrary, HTTP_CONCURRENCY, async (input, seed) => {
          const problem = await judgeOne(input);
          counts.http++;
          if (problem !== undefined) findings.add('http', batch, problem, seed, input);
        });
        await checkCluster('http', batch);
      }
      await settle('http', arbitrary, judgeOne);
    },
    timeoutFor('http'),
  );

  it.runIf(runs('client'))(
    'answers hostile client WebSocket frames with typed errors or a 1002/1008 close, and never crashes',
    async (testContext) => {
      skipIfBroken(testContext);
      const urlOf = (node: number) => `ws://${test.cluster.nodes[node]!.address}/ws`;
      let batch = 0;
      const links = Array.from(
        { length: 6 },
        (_, index) => new ReplyLink(urlOf(index % 3), clientTallies, (problem) => findings.add('client', batch, problem)),
      );
      let closing = 0;
      const sendOne = async (input: ClientFuzzInput, seed: number, linkIndex: number): Promise<string | undefined> => {
        const payload = frameBytes(input);
        if (input.kind === 'rawWebSocket') {
          await sendRawWebSocket(test.cluster.nodes[input.node]!.address, input.bytes, clientTallies, 3_000);
          return undefined;
        }
        const id = replyIdOf(input);
        if (id === undefined) {
          while (closing >= CLOSING_CONCURRENCY) await new Promise((resolve) => setTimeout(resolve, 5));
          closing++;
          try {
            return await sendClosingFrame(urlOf(input.node), payload, clientTallies, CLOSE_WITHIN_MS);
          } finally {
            closing--;
          }
        }
        const link = links[(input.node + 3 * linkIndex) % links.length]!;
        while (link.pending(false).length > 200 || link.bufferedAmount > 8 * 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 5));
        await link.send(payload as Uint8Array, id, isSlow(input), `${seed}`);
        return undefined;
      };
      /** Alone, on fresh connections: the frame's reply or close must keep the protocol (for shrinking). */
      const judgeAlone = async (input: ClientFuzzInput): Promise<string | undefined> => {
        if (input.kind === 'rawWebSocket') return undefined;
        const id = replyIdOf(input);
        if (id === undefined) return sendClosingFrame(urlOf(input.node), frameBytes(input), newClientTallies(), CLOSE_WITHIN_MS);
        const alone: string[] = [];
        const link = new ReplyLink(urlOf(input.node), newClientTallies(), (problem) => alone.push(problem));
        await link.send(frameBytes(input) as Uint8Array, id, false, 'alone');
        const deadline = Date.now() + ANSWER_WITHIN_MS;
        while (link.pending(true).length > 0 && alone.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        const owed = link.pending(true).length;
        link.close();
        return alone[0] ?? (owed > 0 ? `no reply within ${ANSWER_WITHIN_MS} ms` : undefined);
      };
      try {
        for (; counts.client < targetOf('client'); batch++) {
          const size = Math.min(KINDS.client.batch, targetOf('client') - counts.client);
          let worker = 0;
          await runBatch('client', batch, size, clientInput, 6, async (input, seed) => {
            const problem = await sendOne(input, seed, worker++ % 2);
            counts.client++;
            if (problem !== undefined) findings.add('client', batch, problem, seed, input);
          });
          // Every reply owed must come, except long polls', which may be held up to 20 s.
          const owed = await waitFor(
            async () => (links.every((link) => link.pending(false).length === 0) ? true : undefined),
            ANSWER_WITHIN_MS,
            'the replies owed on the client connections',
          ).catch(() => false);
          if (!owed) {
            for (const item of links.flatMap((link) => link.pending(false)))
              findings.add('client', batch, `no reply within ${ANSWER_WITHIN_MS} ms`, Number(item.description));
          }
          await checkCluster('client', batch);
        }
        const slow = await waitFor(
          async () => (links.every((link) => link.pending(true).length === 0) ? true : undefined),
          ANSWER_WITHIN_MS,
          'the replies to long polls',
        ).catch(() => false);
        if (!slow)
          for (const item of links.flatMap((link) => link.pending(true)))
            findings.add('client', batch, `a long poll got no reply within ${ANSWER_WITHIN_MS} ms`, Number(item.description));
      } finally {
        for (const link of links) link.close();
      }
      await settle('client', clientInput, judgeAlone);
    },
    timeoutFor('client'),
  );

  /** The context peer frames are generated in: the cluster's ids, term and indexes as the batch begins. */
  async function peerContext(keyed: boolean, selfId: string, deadAddresses: string[]): Promise<PeerContext> {
    const views = await guard.everyNodeAnswers(RECOVER_WITHIN_MS);
    const term = Math.max(...views.map((view) => view.self.term));
    const commit = Math.min(...views.map((view) => view.self.commitIndex));
    const lastIndex = Math.max(
      ...views.flatMap((view) => [view.self.commitIndex, view.self.appliedIndex, ...view.members.map((member) => member.matchIndex ?? 0)]),
    );
    return {
      selfId,
      memberIds: views.map((view) => view.self.id),
      memberAddresses: views.map((view) => view.self.address),
      term,
      lastIndex,
      commit,
      deadAddresses,
      keyed,
      sentinelTerm: term + 1000,
    };
  }

  /** Members each node knows, as `id:raft:voter` strings, sorted. */
  const membersOf = (views: ClusterSelf[]) =>
    views.map((view) =>
      view.members
        .map((member) => `${member.id}:${member.raft}:${member.voter}`)
        .sort()
        .join(','),
    );

  it.runIf(runs('stranger'))(
    'refuses every peer link without the cluster key, and nothing a stranger sends lands',
    async (testContext) => {
      skipIfBroken(testContext);
      const deadAddresses = (await freePorts(2)).map((port) => `127.0.0.1:${port}`);
      for (let batch = 0; counts.stranger < targetOf('stranger'); batch++) {
        const before = await guard.everyNodeAnswers(RECOVER_WITHIN_MS);
        const context = await peerContext(false, `stranger-${(SEED >>> 0).toString(16)}-${batch}`, deadAddresses);
        const arbitrary = strangerInput(context, CANARY_QUEUE, CANARY_MEMBER);
        const problem = (text: string, seed?: number, input?: StrangerInput) => findings.add('stranger', batch, text, seed, input);
        const target = Math.min(KINDS.stranger.batch, targetOf('stranger') - counts.stranger);
        // Links, each with a few frames: as many as it takes to send the batch's share of frames.
        const links = Math.max(1, Math.ceil(target / 3.5));
        await runBatch('stranger', batch, links, arbitrary, STRANGER_CONCURRENCY, async (input, seed) => {
          const outcome = await runStranger(test.cluster.nodes[input.node]!.address, input, CLOSE_WITHIN_MS);
          counts.stranger += outcome.sent;
          tally(peerTallies, `stranger ${input.mode} closed ${outcome.code ?? 'by us'}`);
          for (const frame of input.frames) tally(peerTallies, `stranger frame ${frameKind(peerFrameBytes(frame))}`);
          if (!outcome.closed)
            problem(`a ${input.mode} link claiming ${input.claimedId} stayed open ${CLOSE_WITHIN_MS} ms after ${outcome.sent} frames`, seed, input);
        });
        const after = await checkCluster('stranger', batch);
        // Nothing landed: no term reached the sentinel (every Raft frame a stranger sent carried one at
        // or above it; an election of the cluster's own moves the term by a few at most), no member
        // was added, and the canary queue a forwarded enqueue would have made does not exist.
        for (const [index, view] of after.entries()) {
          if (view.self.term >= context.sentinelTerm)
            problem(`node ${index} reached term ${view.self.term}, at or past the strangers' ${context.sentinelTerm}`);
          if (view.self.term !== before[index]!.self.term) tally(peerTallies, 'stranger batch with an election of the cluster own');
          const ids = view.members.map((member) => member.id);
          if (ids.includes(CANARY_MEMBER) || ids.includes(context.selfId)) problem(`node ${index} lists a stranger's member: ${ids.join(', ')}`);
          const canary = await test.request(index, 'GET', `/queues/${CANARY_QUEUE}?stale=1`);
          if (canary.status !== 404) problem(`node ${index} has the canary queue a stranger's forward would make: ${canary.status}`);
        }
        if (JSON.stringify(membersOf(after)) !== JSON.stringify(membersOf(before))) {
          problem(`membership changed during the batch: ${JSON.stringify(membersOf(before))} -> ${JSON.stringify(membersOf(after))}`);
        }
      }
      expect(counts.stranger, 'frames strangers sent on open links').toBeGreaterThan(0);
      await settle('stranger', undefined, undefined);
    },
    timeoutFor('stranger'),
  );

  it.runIf(runs('keyed'))(
    'survives hostile frames from a peer holding the key: no crash, a leader again, the acknowledged set intact',
    async (testContext) => {
      skipIfBroken(testContext);
      const deadAddresses = (await freePorts(2)).map((port) => `127.0.0.1:${port}`);
      for (let batch = 0; counts.keyed < targetOf('keyed'); batch++) {
        const selfId = `fuzzer-${(SEED >>> 0).toString(16)}-${batch}`;
        const context = await peerContext(true, selfId, deadAddresses);
        const arbitrary = peerFrameInput(context);
        const problem = (text: string, seed?: number, input?: PeerFrameInput) => findings.add('keyed', batch, text, seed, input);
        const size = Math.min(KINDS.keyed.batch, targetOf('keyed') - counts.keyed);
        const links: (RawPeer | undefined)[] = [undefined, undefined, undefined];
        const linkTo = async (node: number): Promise<RawPeer> => {
          const open = links[node];
          if (open?.isOpen === true) return open;
          const dialed = await RawPeer.dial(test.cluster.nodes[node]!.address, { id: selfId, address: deadAddresses[0]!, key: clusterKey });
          if (dialed.outcome !== 'accepted') throw new Error(`node ${node} refused a link with the right key`);
          links[node] = dialed.peer;
          return dialed.peer;
        };
        // One worker per node keeps each link's frames in order; the nodes are fuzzed at once.
        const perNode: { input: PeerFrameInput; seed: number }[][] = [[], [], []];
        for (let position = 0; position < size; position++) {
          const seed = inputSeed(SEED, KINDS.keyed.stream, batch, position);
          const input = generate(arbitrary, seed);
          perNode[input.node]!.push({ input, seed });
        }
        await Promise.all(
          perNode.map(async (queue, node) => {
            for (const [position, { input, seed }] of queue.entries()) {
              remember(seed, input);
              const bytes = peerFrameBytes(input);
              const peer = await waitFor(() => linkTo(node), RECOVER_WITHIN_MS, `a keyed link to node ${node}`);
              const accepted = acceptedFrame(bytes) !== undefined;
              peer.sendBytes(bytes);
              counts.keyed++;
              tally(peerTallies, `keyed frame ${frameKind(bytes)}`);
              if (!accepted) {
                // A frame the node cannot accept must close the link (and be the last it reads from it).
                let timer: NodeJS.Timeout | undefined;
                const closed = await Promise.race([
                  peer.closed,
                  new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CLOSE_WITHIN_MS))),
                ]);
                clearTimeout(timer);
                if (closed === undefined) problem(`node ${node} kept the link open after a frame it cannot accept`, seed, input);
                else tally(peerTallies, `keyed link closed ${closed.code}`);
              } else if (position % 16 === 15) {
                await new Promise((resolve) => setImmediate(resolve));
              }
            }
          }),
        );
        for (const link of links) link?.close();
        // A stranger to the key is refused, but a member's id from another address must be too.
        const impostor = await RawPeer.dial(test.cluster.nodes[batch % 3]!.address, {
          id: context.memberIds[(batch + 1) % 3]!,
          address: deadAddresses[1]!,
          key: clusterKey,
        });
        let timer: NodeJS.Timeout | undefined;
        const impostorClosed = await Promise.race([
          impostor.peer.closed,
          new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CLOSE_WITHIN_MS))),
        ]);
        clearTimeout(timer);
        impostor.peer.close();
        if (impostorClosed === undefined)
          problem(`node ${batch % 3} kept a keyed link claiming live member ${context.memberIds[(batch + 1) % 3]} from another address`);
        await checkCluster('keyed', batch);
      }
      await settle('keyed', undefined, undefined);
    },
    timeoutFor('keyed'),
  );

  it('still holds exactly the acknowledged messages: receiving everything returns the known bodies', async (testContext) => {
    skipIfBroken(testContext);
    const views = await checkCluster('final', 0);
    console.log(`fuzz: members at the end ${JSON.stringify(membersOf(views)[0])}; terms ${views.map((view) => view.self.term).join(', ')}`);
    for (const [index, { id }] of known.entries()) {
      const reply = await test.request(index % 3, 'GET', `/queues/${GUARDED_QUEUE}/messages/${id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id, state: 'ready', attempt: 0 });
    }
    let answer = '';
    const received = await waitFor(
      async () => {
        const reply = await test.request(1, 'POST', `/queues/${GUARDED_QUEUE}/receive`, { max: 1000, visibilityMs: 600_000 });
        answer = `${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`;
        return reply.status === 200 ? (reply.body.messages as { id: string; body: unknown }[]) : undefined;
      },
      RECOVER_WITHIN_MS,
      'a receive of the guarded queue',
    );
    const receivedIds = received.map((message) => message.id).sort();
    if (JSON.stringify(receivedIds) !== JSON.stringify(known.map((message) => message.id).sort())) {
      // What every node says after the receive, to tell a lost message from a wrong answer.
      const after: string[] = [];
      for (let index = 0; index < 3; index++) {
        const stats = await test.request(index, 'GET', `/queues/${GUARDED_QUEUE}?stale=1`).catch((error: unknown) => ({ status: 0, body: String(error) }));
        const first = await test
          .request(index, 'GET', `/queues/${GUARDED_QUEUE}/messages/${known[0]!.id}?stale=1`)
          .catch((error: unknown) => ({ status: 0, body: String(error) }));
        after.push(`node ${index}: stats ${JSON.stringify(stats.body).slice(0, 300)}; message ${known[0]!.id}: ${JSON.stringify(first.body).slice(0, 400)}`);
      }
      throw failure(
        'final',
        0,
        `a receive through node 1 returned ${receivedIds.length} of the ${KNOWN_COUNT} known messages: ${answer}`,
        `${after.join('\n')}\n${await diagnose()}`,
      );
    }
    expect(received.map((message) => JSON.stringify(message.body)).sort()).toEqual(known.map((message) => JSON.stringify(message.body)).sort());
    expect(guard.exits).toEqual([]);
    const late = findings.of('final');
    if (late.length > 0) throw failure('final', 0, `found at the end: ${late.map((finding) => finding.problem).join('; ')}`);
  }, 120_000);
});
