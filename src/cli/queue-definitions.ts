import { configureRequest, validQueueName } from '../server/requests/request-validation.ts';
import type { QueueConfigInput } from '../shared/index.ts';

/**
 * The config file's `queues`: `{ "orders": { "visibilityMs": 30000, ... } }`, each checked exactly as
 * `PUT /queues/:q` checks its body, so a file that starts a node never makes the leader refuse it.
 * Problems go to `problems`, prefixed with `source` and the queue's name.
 */
export function parseQueueDefinitions(raw: unknown, source: string, problems: string[]): Readonly<Record<string, QueueConfigInput>> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${source}: must be an object of queue name to queue config`);
    return undefined;
  }
  const queues: Record<string, QueueConfigInput> = {};
  let valid = true;
  for (const [name, config] of Object.entries(raw)) {
    try {
      const request = configureRequest(validQueueName(name), config);
      if (request.op === 'configure') queues[name] = request.config;
    } catch (error) {
      problems.push(`${source}, queue ${JSON.stringify(name)}: ${error instanceof Error ? error.message : String(error)}`);
      valid = false;
    }
  }
  return valid ? queues : undefined;
}
