// The bare `ws` endpoints of the floors, on 127.0.0.1: the benchmark's side connects, a helper
// process's side listens on a free port and prints `port <n>` for startHelper (helper-process.ts).
import { WebSocket, WebSocketServer } from 'ws';

export function connectLocal(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    socket.binaryType = 'nodebuffer';
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** In a helper process, first thing: its IPC channel is a lifeline, so when the benchmark goes, so does the helper. */
export function dieWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}

export function listenLocal(onConnection: (socket: WebSocket) => void): void {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', onConnection);
  server.on('listening', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    console.log(`port ${address.port}`);
  });
}
