import { messageCopy, type StoredMessage } from './queue-message.ts';

/**
 * The messages of every queue as they were at one applied index, for a snapshot that is encoded
 * over many event-loop turns while the machine goes on applying. Copying every message when the
 * snapshot is taken held the event loop 0.65-0.8 s at a million messages, longer than an election
 * timeout; instead the snapshot keeps references, and each queue hands a captured message to
 * `keepBeforeChange` before it first changes it (copy on write). Released once every message is
 * packed, or when the encoding is dropped; until then each captured message is copied at most once.
 */
export class SnapshotCapture {
  private readonly before = new Map<StoredMessage, StoredMessage>();
  private readonly queues = new Set<object>();
  private readonly onRelease: (() => void)[] = [];
  private released = false;

  /** Runs `unregister` once the capture is released (at once if it already is). */
  whenReleased(unregister: () => void): void {
    if (this.released) unregister();
    else this.onRelease.push(unregister);
  }

  keepBeforeChange(message: StoredMessage): void {
    if (!this.released && !this.before.has(message)) this.before.set(message, messageCopy(message));
  }

  /** A queue's part of the snapshot whose `messages` are this capture's references. */
  holdsMessagesOf(queue: { readonly messages: readonly StoredMessage[] }): void {
    this.queues.add(queue);
  }

  /**
   * An element of a long array, as it was at capture: a message's copy if it changed since, or a
   * queue's part (packed whole when there are many queues) with its messages so mapped; anything
   * else is never changed in place and is itself.
   */
  readonly asCaptured = (item: unknown): unknown => {
    if (!this.queues.has(item as object)) return this.messageAsCaptured(item);
    const queue = item as { readonly messages: readonly StoredMessage[] };
    return { ...queue, messages: queue.messages.map(this.messageAsCaptured) };
  };

  private readonly messageAsCaptured = (item: unknown): unknown => this.before.get(item as StoredMessage) ?? item;

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const unregister of this.onRelease.splice(0)) unregister();
    this.before.clear();
    this.queues.clear();
  }
}
