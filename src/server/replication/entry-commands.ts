import {
  commandSince,
  commandsOf,
  type LogRecord,
  type QueueCommand,
  type QueueResult,
  type QueueStateMachine,
  RELEASE_CLUSTER_VERSION,
} from '../../queue/index.ts';
import type { Entry } from '../../raft/index.ts';
import { decode } from '../../shared/codec.ts';

export interface EntryCommandsOptions {
  readonly machine: QueueStateMachine;
  /** Called after each command that applied, in log order. */
  readonly onApplied: (command: QueueCommand) => void;
  /** An entry or a command that was skipped, and why: for the log and the metrics. */
  readonly onRejected: (reason: 'decode' | 'apply', detail: { index: number; error?: unknown; type?: string }) => void;
}

/**
 * A committed entry holds a command this release does not know: it was written by a newer release,
 * past the cluster version gate (which never lets that happen on its own). Applying around it would
 * be a guess, and skipping it would make this replica differ from those that applied it: the node
 * stops, and says to upgrade it.
 */
export class UnsupportedCommandError extends Error {
  private constructor(
    readonly index: number,
    readonly commandType: string,
    what: string,
  ) {
    super(
      `${what}, which this release (cluster version ${RELEASE_CLUSTER_VERSION} at most) does not support: ` +
        'it was written by a newer release past the cluster version gate; start this node with a release that supports it',
    );
    this.name = 'UnsupportedCommandError';
  }

  static command(index: number, type: string): UnsupportedCommandError {
    return new UnsupportedCommandError(index, type, `log entry ${index} holds a "${type}" command`);
  }

  /** A raise to a version past this release's, in an entry or in a snapshot's state. */
  static clusterVersion(index: number, version: number, where: 'entry' | 'snapshot'): UnsupportedCommandError {
    const what = where === 'entry' ? `log entry ${index} raises the cluster version to ${version}` : `the snapshot at ${index} runs cluster version ${version}`;
    return new UnsupportedCommandError(index, 'clusterVersion', what);
  }
}

const FAILED: QueueResult = { type: 'error', code: 'BAD_REQUEST', message: 'the command failed to apply' };

/**
 * Applies the commands of committed entries to the queue state machine. Nothing in an entry may
 * stop the node: it is in the log of every replica, so an exception here would stop each of them
 * in turn, and again at every restart (a poison entry). An entry that does not decode into
 * commands is skipped; a command whose apply throws answers an error and the next command runs.
 * Every replica holds the same bytes and runs the same deterministic code, so every replica skips
 * or fails the same way, at the same point, and the replicas stay identical. The exception is a
 * command of a type this release does not know (see `UnsupportedCommandError`): that stops the node.
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
      const types = Array.isArray(commands) ? commands.map((command) => (typeof command === 'object' && command !== null ? command.type : undefined)) : [];
      if (Array.isArray(commands) && types.every((type) => typeof type === 'string')) {
        const unknown = types.find((type) => commandSince(type) === undefined);
        if (unknown !== undefined) throw UnsupportedCommandError.command(entry.index, unknown.slice(0, 40));
        for (const command of commands) {
          const version = command.type === 'clusterVersion' ? command.version : undefined;
          if (typeof version === 'number' && version > RELEASE_CLUSTER_VERSION) throw UnsupportedCommandError.clusterVersion(entry.index, version, 'entry');
        }
        return commands;
      }
    } catch (error) {
      if (error instanceof UnsupportedCommandError) throw error;
      // Anything else is reported below, as an entry that does not decode.
    }
    this.options.onRejected('decode', { index: entry.index });
    return [];
  }
}
