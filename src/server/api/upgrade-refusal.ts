import type { Duplex } from 'node:stream';

/** Answers an upgrade request on the raw socket, as the HTTP API would answer a request. */
export function refuseUpgrade(socket: Duplex, status: 401 | 403 | 503, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
