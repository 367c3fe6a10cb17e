// The other process of the `ws` floors (started by floors.ts): a bare `ws` server on a free port
// of 127.0.0.1 that prints `port <n>`, then either echoes every message (`echo`) or counts binary
// messages and, on the text message `done`, answers `{ count, firstAt, lastAt }` (`count`).
import { dieWithParent, listenLocal } from './local-ws.ts';

dieWithParent();

const mode = process.argv[2];
if (mode !== 'echo' && mode !== 'count') throw new Error('usage: ws-peer.ts echo|count');

listenLocal((socket) => {
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  socket.on('message', (data, isBinary) => {
    if (mode === 'echo') {
      socket.send(data, { binary: isBinary });
      return;
    }
    if (!isBinary) {
      socket.send(JSON.stringify({ count, firstAt, lastAt }));
      return;
    }
    lastAt = performance.now();
    if (count++ === 0) firstAt = lastAt;
  });
});
