import { type QueueCommand, type QueueResult, recordOf } from '../../queue/index.ts';
import type { Raft } from '../../raft/index.ts';
import { encode } from '../../shared/codec.ts';
import { assert, RequestError } from '../../shared/index.ts';
import { PendingProposals } from './pending-proposals.ts';
import { RETRY_AFTER_MS } from './retry-after.ts';

export interface ProposalBatcherOptions {
  readonly submit: (input: (raft: Raft) => void) => void;
  readonly proposalTimeoutMs: number;
  /** Commands waiting to commit, beyond which new ones are refused with OVERLOADED. */
  readonly pendingCommandsMax: number;
}

/** One log entry's worth of commands: 512 requests, or 4 MiB of message bodies, whichever first. */
const BATCH_COMMANDS_MAX = 512;
const BATCH_BYTES_MAX = 4 * 1024 * 1024;

interface OpenBatch {
  readonly commands: QueueCommand[];
  readonly resolves: ((result: QueueResult) => void)[];
  readonly rejects: ((error: RequestError) => void)[];
  bytes: number;
}

/**
 * Group commit for requests: every command proposed before the driver next runs (it runs once the
 * current write is durable) goes into one log entry, and each caller gets its own command's result.
 */
export class ProposalBatcher {
  private readonly entries: PendingProposals<readonly QueueResult[]>;
  private open: OpenBatch | undefined;
  private pendingCommands = 0;

  constructor(private readonly options: ProposalBatcherOptions) {
    this.entries = new PendingProposals(options.proposalTimeoutMs);
  }

  get size(): number {
    return this.pendingCommands;
  }

  propose(command: QueueCommand): Promise<QueueResult> {
    if (this.pendingCommands >= this.options.pendingCommandsMax) {
      return Promise.reject(new RequestError('OVERLOADED', 'too many requests waiting to commit', RETRY_AFTER_MS.busy));
    }
    const bytes = command.type === 'enqueue' ? command.messages.reduce((sum, message) => sum + message.bytes, 0) : 0;
    const full = this.open !== undefined && (this.open.commands.length >= BATCH_COMMANDS_MAX || this.open.bytes + bytes > BATCH_BYTES_MAX);
    const batch = this.open === undefined || full ? this.openBatch() : this.open;
    this.pendingCommands++;
    return new Promise<QueueResult>((resolve, reject) => {
      batch.commands.push(command);
      batch.resolves.push(resolve);
      batch.rejects.push(reject);
      batch.bytes += bytes;
    }).finally(() => {
      this.pendingCommands--;
      assert(this.pendingCommands >= 0, 'more proposals answered than were made');
    });
  }

  /** An applied entry's results, in command order: its proposers (on this node, if any) hear theirs. */
  onEntryApplied(index: number, term: number, results: readonly QueueResult[]): void {
    this.entries.onApplied(index, term, results);
  }

  /** This node stopped being leader: see `PendingProposals.expireWithin`. */
  expireWithin(graceMs: number): void {
    this.entries.expireWithin(graceMs);
  }

  /** Fails every waiting caller: those whose entry is out, and those of a batch not yet proposed. */
  rejectAll(error: RequestError): void {
    this.entries.rejectAll(error);
    const open = this.open;
    this.open = undefined;
    for (const reject of open?.rejects ?? []) reject(error);
  }

  private openBatch(): OpenBatch {
    const batch: OpenBatch = { commands: [], resolves: [], rejects: [], bytes: 0 };
    this.open = batch;
    this.options.submit((raft) => {
      if (this.open === batch) this.open = undefined;
      assert(batch.commands.length > 0, 'a batch is opened for a command and proposed with it');
      assert(batch.resolves.length === batch.commands.length && batch.rejects.length === batch.commands.length, 'a batch holds one caller per command');
      let data: Uint8Array;
      try {
        data = encode(recordOf(batch.commands));
      } catch (error) {
        // Requests are validated before they get here, so this is a bug, not a client's doing; it
        // costs this batch's callers an error, never the node (an exception here would stop the driver).
        const message = `the request could not be encoded for the log: ${error instanceof Error ? error.message : String(error)}`;
        for (const reject of batch.rejects) reject(new RequestError('INTERNAL', message));
        return;
      }
      const proposed = raft.propose(data);
      if (!proposed.ok) {
        const code = proposed.error.code === 'NOT_LEADER' ? 'NO_LEADER' : 'UNAVAILABLE';
        for (const reject of batch.rejects) reject(new RequestError(code, proposed.error.message, RETRY_AFTER_MS.leaderChanged));
        return;
      }
      this.entries.wait(proposed.index, proposed.term).then(
        (results) => {
          // Our own entry, by its index and term: every command answered, or none (it did not decode).
          assert(results.length === 0 || results.length === batch.commands.length, 'an applied entry answers each of its commands');
          results.forEach((result, position) => batch.resolves[position]!(result));
          // An entry skipped as unreadable (see `EntryCommands`) answers none of its commands.
          const unanswered = new RequestError('INTERNAL', 'the entry holding this request could not be applied; see the node logs');
          for (let position = results.length; position < batch.rejects.length; position++) batch.rejects[position]!(unanswered);
        },
        (error: RequestError) => batch.rejects.forEach((reject) => reject(error)),
      );
    });
    return batch;
  }
}
