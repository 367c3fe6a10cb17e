import { commandsOf, type LogRecord, type QueueCommand, type QueueResult, type QueueStateMachine } from '../../queue/index.ts';
import type { Entry } from '../../raft/index.ts';
import { decode } from '../../shared/codec.ts';

export interface EntryCommandsOptions {
  readonly machine: QueueStateMachine;
  /** Called after each command that applied, in log order. */
  readonly onApplied: (command: QueueCommand) => void;
  /** An entry or a command that was skipped, and why: for the log and the metrics. */
  readonly onRejected: (reason: 'decode' | 'apply', detail: { index: number; error?: unknown; type?: string }) => void;
}

const FAILED: QueueResult = { type: 'error', code: 'BAD_REQUEST', message: 'the command failed to apply' };

/**
 * Applies the commands of committed entries to the queue state machine. Nothing in an entry may
 * stop the node: it is in the log of every replica, so an exception here would stop each of them
 * in turn, and again at every restart (a poison entry). An entry that does not decode into
 * commands is skipped; a command whose apply throws answers an error and the next command runs.
 * Every replica holds the same bytes and runs the same deterministic code, so every replica skips
 * or fails the same way, at the same point, and the replicas stay identical.
 */
export class EntryCommands {
  constructor(private readonly options: EntryCommandsOptions) {}

  /** The results of a normal entry's commands, in order; none for an entry that does not decode. */
  apply(entry: Entry): QueueResult[] {
    return this.commandsOf(entry).map((command) => {
      let result: QueueResult;
      try {
        result = this.options.machine.apply(command);
      } catch (error) {
        this.options.onRejected('apply', { index: entry.index, error, type: String((command as { type?: unknown }).type).slice(0, 40) });
        return FAILED;
      }
      this.options.onApplied(command);
      return result;
    });
  }

  private commandsOf(entry: Entry): readonly QueueCommand[] {
    try {
      const commands = commandsOf(decode(entry.data) as LogRecord);
      if (Array.isArray(commands) && commands.every((command) => typeof command === 'object' && command !== null)) return commands;
    } catch {
      // Reported below, as an entry that does not decode.
    }
    this.options.onRejected('decode', { index: entry.index });
    return [];
  }
}
