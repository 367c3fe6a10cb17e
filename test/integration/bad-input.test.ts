import { beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../src/client/index.ts';
import { decode, encode } from '../../src/shared/codec.ts';
import { clusterForSuite, type TestCluster } from './cluster-harness.ts';

// Goal: hostile or malformed input gets the documented error, and the node keeps serving.
describe('bad input against a real node', () => {
  const suite = clusterForSuite(1);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  async function stillServes(): Promise<void> {
    const reply = await test.request(0, 'POST', '/queues/alive/messages', { body: 'still here' });
    expect(reply.status).toBe(201);
  }

  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    const reply = await test.request(0, 'POST', '/queues/q/messages', undefined, '{"body": ');
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('BAD_REQUEST');
    await stillServes();
  });

  it('answers a bad queue name with 400 INVALID_QUEUE_NAME', async () => {
    const reply = await test.request(0, 'POST', `/queues/${encodeURIComponent('no spaces!')}/messages`, { body: 1 });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('INVALID_QUEUE_NAME');
    const long = await test.request(0, 'GET', `/queues/${'x'.repeat(129)}`);
    expect(long.body.error.code).toBe('INVALID_QUEUE_NAME');
  });

  it('answers bad fields with 400 and says which', async () => {
    const reply = await test.request(0, 'POST', '/queues/q/messages', { body: 1, priority: 42 });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/priority/);
    const receive = await test.request(0, 'POST', '/queues/q/receive', { max: 0 });
    expect(receive.body.error.code).toBe('BAD_REQUEST');
  });

  it('refuses an oversized message with 413 TOO_LARGE', async () => {
    const reply = await test.request(0, 'POST', '/queues/q/messages', { body: 'x'.repeat(1024 * 1024 + 10) });
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('TOO_LARGE');
    const huge = await test.request(0, 'POST', '/queues/q/messages', undefined, 'x'.repeat(17 * 1024 * 1024));
    expect(huge.status).toBe(413);
    await stillServes();
  });

  it('answers unknown routes and queues with 404 NOT_FOUND', async () => {
    expect((await test.request(0, 'GET', '/nowhere')).status).toBe(404);
    const missing = await test.request(0, 'GET', '/queues/never-made');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('closes a WebSocket that sends garbage, and keeps serving others', async () => {
    const address = test.cluster.nodes[0]!.address;
    const socket = new WebSocket(`ws://${address}/ws`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.from([0xc1, 0xff, 0x00, 0x13]));
    expect(await closed).toBe(1002);
    await stillServes();
  });

  it('answers a well-formed frame with a bad request as a typed error frame', async () => {
    const address = test.cluster.nodes[0]!.address;
    const socket = new WebSocket(`ws://${address}/ws`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const reply = new Promise<any>((resolve) => socket.once('message', (data: Buffer) => resolve(decode(data))));
    socket.send(encode({ id: 7, op: 'enqueue', queue: 'bad name' }));
    expect(await reply).toMatchObject({ id: 7, ok: false, error: { code: 'INVALID_QUEUE_NAME' } });
    socket.close();
  });

  it('serves the SDK over the WebSocket protocol', async () => {
    const client = connect({ nodes: [test.cluster.nodes[0]!.address] });
    try {
      const { id } = await client.enqueue('sdk', { task: 1 });
      const [delivery] = await client.receive('sdk', { waitMs: 1000 });
      expect(delivery?.id).toBe(id);
      expect(delivery?.body).toEqual({ task: 1 });
      const settled = await client.ack('sdk', { receipts: [delivery!.receipt] });
      expect(settled.count).toBe(1);
    } finally {
      client.close();
    }
  });
});
