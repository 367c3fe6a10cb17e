import { createServer, get, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Raft } from '../../../../src/raft/index.ts';
import { type BackupSendLimits, sendBackup } from '../../../../src/server/api/backup-route.ts';
import { StateBackups } from '../../../../src/server/replication/index.ts';
import { RequestError } from '../../../../src/shared/index.ts';

// Goal: a client that stops reading a backup, or takes too long over it, does not hold the node's
// one backup slot and the encoded state: its answer is destroyed in bounded time, and the next
// backup is served.
const PART_BYTES = 4 * 1024 * 1024;
const PARTS = 16; // 64 MiB: far more than the socket buffers of a client that reads nothing hold
const core = { status: () => ({ firstIndex: 1, applied: 5 }), snapshotMetaAt: () => ({ index: 5, term: 1 }) } as unknown as Raft;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A node's backup route alone: one slot, the state in `PARTS` parts, sent under `limits`. */
async function backupServer(limits: BackupSendLimits): Promise<number> {
  const backups = new StateBackups({
    submit: (input) => setImmediate(() => input(core)),
    appliedIndex: () => 5,
    encodeState: () => {
      const parts = Array.from({ length: PARTS }, () => new Uint8Array(PART_BYTES));
      return { packStep: () => true, takeParts: () => parts, release: () => undefined };
    },
    now: () => 0,
  });
  server = createServer((_request, response) => {
    backups
      .run((backup) => sendBackup(response, backup, limits), 5)
      .catch((error: unknown) => {
        const code = error instanceof RequestError ? error.code : 'INTERNAL';
        if (!response.headersSent) response.writeHead(503).end(code);
      });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as AddressInfo).port;
}

/** Asks for a backup and reads nothing of the answer. */
function stalledClient(port: number): void {
  const socket = connect(port, '127.0.0.1', () => socket.write('GET /admin/backup HTTP/1.1\r\nhost: x\r\n\r\n'));
  socket.pause();
  socket.on('error', () => undefined);
}

/** Reads a whole answer: its status and how many bytes came. */
function fullBackup(port: number): Promise<{ status: number | undefined; bytes: number }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/admin/backup' }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ status: response.statusCode, bytes }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sendBackup', () => {
  it('destroys the answer of a client that stops reading, so that the next backup is served', async () => {
    const port = await backupServer({ idleMs: 300, deadlineMs: 60_000 });
    stalledClient(port);
    await sleep(100);
    // The stalled client holds the slot meanwhile.
    expect((await fullBackup(port)).status).toBe(503);
    await sleep(600);
    const second = await fullBackup(port);
    expect(second.status).toBe(200);
    expect(second.bytes).toBeGreaterThan(PARTS * PART_BYTES);
  }, 20_000);

  it('destroys the answer of a client that is not done by the deadline', async () => {
    const port = await backupServer({ idleMs: 60_000, deadlineMs: 400 });
    stalledClient(port);
    await sleep(100);
    expect((await fullBackup(port)).status).toBe(503);
    await sleep(700);
    expect((await fullBackup(port)).status).toBe(200);
  }, 20_000);
});
