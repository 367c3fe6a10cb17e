import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const corked = new Set<Socket>();
let flushScheduled = false;

/**
 * Holds a WebSocket's TCP writes until the event loop's check phase, so every frame sent in this
 * turn (all the replies one applied batch resolves, a ready's messages to one peer) leaves in one
 * system call instead of one each: under load, per-frame writes were the largest cost after GC.
 * `ws` keeps its socket in `_socket`; without one (closed, or a future `ws`) frames go out unbatched.
 */
export function coalesceWrites(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (socket === undefined || corked.has(socket) || socket.destroyed) return;
  corked.add(socket);
  socket.cork();
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    flushCoalescedWrites();
  });
}

/**
 * Sends what is held now, for frames on a request's critical path that would otherwise wait behind
 * work started later in the same turn (a leader's appends behind its own disk write).
 */
export function flushCoalescedWrites(): void {
  for (const socket of corked) if (!socket.destroyed) socket.uncork();
  corked.clear();
}
