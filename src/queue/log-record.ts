import type { QueueCommand } from './queue-commands.ts';

/**
 * What one log entry carries: a command, or many proposed together. Batching amortizes what each
 * entry costs (its key and checksum on disk, its bookkeeping in Raft) over every request that
 * arrived while the previous write was under way; the commands apply in order, each with its own stamp.
 */
export type LogRecord = QueueCommand | { readonly type: 'batch'; readonly commands: readonly QueueCommand[] };

export function commandsOf(record: LogRecord): readonly QueueCommand[] {
  return record.type === 'batch' ? record.commands : [record];
}

export function recordOf(commands: readonly QueueCommand[]): LogRecord {
  return commands.length === 1 ? commands[0]! : { type: 'batch', commands };
}
