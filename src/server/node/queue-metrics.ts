import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueueStateMachine } from '../../queue/index.ts';

/**
 * Per-queue counters and the age of each queue's oldest ready message, read from this node's
 * replica at each scrape. Every node reports every queue (each holds the whole state), labelled
 * with its own id as `node`: aggregate with `max by (queue)`, never `sum`. A counter starts over
 * when its queue is deleted and made again.
 */
export function registerQueueMetrics(registry: Registry, node: string, machine: QueueStateMachine, wallMs: () => number): void {
  const counter = (name: string, help: string, read: (stats: ReturnType<QueueStateMachine['list']>[number]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['queue', 'node'],
      registers: [registry],
      collect() {
        this.reset();
        for (const stats of machine.list()) this.inc({ queue: stats.name, node }, read(stats));
      },
    });
  counter('quorumq_queue_enqueued_total', 'Messages enqueued into each queue since it was made', (stats) => stats.enqueued);
  counter('quorumq_queue_acked_total', 'Messages acked in each queue since it was made', (stats) => stats.acked);
  counter('quorumq_queue_dead_lettered_total', 'Messages each queue sent to its dead-letter queue since it was made', (stats) => stats.dead);
  // Counted from the cluster version 2 raise (see docs/operations.md, Upgrades): zero before it.
  counter('quorumq_queue_nacked_total', 'Deliveries of each queue nacked by a consumer', (stats) => stats.nacked);
  counter('quorumq_queue_lease_expired_total', 'Deliveries of each queue whose lease ran out unacked', (stats) => stats.leaseExpired);
  counter('quorumq_queue_expired_total', 'Messages of each queue whose time to live ran out before delivery', (stats) => stats.expired);
  new Gauge({
    name: 'quorumq_queue_oldest_ready_age_seconds',
    help: 'How long the longest-waiting ready message of each queue has waited since it was enqueued (0 when none is ready)',
    labelNames: ['queue', 'node'],
    registers: [registry],
    collect() {
      this.reset();
      const now = wallMs();
      for (const stats of machine.list()) {
        const enqueuedAt = machine.oldestReadyEnqueuedAt(stats.name);
        this.set({ queue: stats.name, node }, enqueuedAt === undefined ? 0 : Math.max(0, now - enqueuedAt) / 1000);
      }
    },
  });
}
