import { describe, expect, it } from 'vitest';
import { QUEUE_LIMITS } from '../../../../src/queue/index.ts';
import { configureRequest, enqueueRequest, settleRequest, validQueueName } from '../../../../src/server/requests/request-validation.ts';
import { RequestError } from '../../../../src/shared/index.ts';

function refusal(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (error instanceof RequestError && error.code === 'BAD_REQUEST') return error.message;
    throw error;
  }
  throw new Error('expected a 400 BAD_REQUEST');
}

// Goal: the new fields reach the log only well-formed and within their limits; anything else is a 400.
describe('request validation of TTL, retention, results and errors', () => {
  it('takes ttlMs on a message, 0 meaning never, up to the TTL limit', () => {
    expect(enqueueRequest('q', { body: 1, ttlMs: 0 })).toMatchObject({ messages: [{ ttlMs: 0 }] });
    expect(enqueueRequest('q', { messages: [{ body: 1, ttlMs: 500 }] })).toMatchObject({ messages: [{ ttlMs: 500 }] });
    expect(refusal(() => enqueueRequest('q', { body: 1, ttlMs: QUEUE_LIMITS.ttlMsMax + 1 }))).toMatch(/ttlMs/);
    expect(refusal(() => enqueueRequest('q', { body: 1, ttlMs: 1.5 }))).toMatch(/ttlMs/);
  });

  it('takes messageTtlMs and retentionMs on a queue, retention up to 24 h', () => {
    expect(configureRequest('q', { messageTtlMs: 1000, retentionMs: 0 })).toMatchObject({ config: { messageTtlMs: 1000, retentionMs: 0 } });
    expect(refusal(() => configureRequest('q', { retentionMs: QUEUE_LIMITS.retentionMsMax + 1 }))).toMatch(/retentionMs/);
  });

  it('takes one result per receipt on an ack, any JSON value', () => {
    const request = settleRequest('ack', 'q', { ids: ['9'], receipts: ['1:1', '2:1'], results: [{ ok: true }, null] });
    expect(request).toMatchObject({ op: 'ack', results: [{ ok: true }, null] });
    expect(settleRequest('ack', 'q', { receipts: ['1:1'] })).not.toHaveProperty('results');
  });

  it('refuses results that do not line up with the receipts, or are too large', () => {
    expect(refusal(() => settleRequest('ack', 'q', { receipts: ['1:1', '2:1'], results: [1] }))).toMatch(/one value per receipt/);
    expect(refusal(() => settleRequest('ack', 'q', { ids: ['1'], results: [1] }))).toMatch(/one value per receipt/);
    expect(refusal(() => settleRequest('ack', 'q', { receipts: ['1:1'], results: 'done' }))).toMatch(/results/);
    const big = 'x'.repeat(QUEUE_LIMITS.resultBytesMax);
    expect(refusal(() => settleRequest('ack', 'q', { receipts: ['1:1'], results: [big] }))).toMatch(/results\[0\] is \d+ bytes/);
    expect(refusal(() => settleRequest('ack', 'q', { receipts: ['1:1'], results: [undefined] }))).toMatch(/JSON value/);
  });

  it('takes an error text on a nack, empty or up to its limit', () => {
    expect(settleRequest('nack', 'q', { receipts: ['1:1'], error: '' })).toMatchObject({ error: '' });
    expect(settleRequest('nack', 'q', { receipts: ['1:1'], error: 'timeout' })).toMatchObject({ op: 'nack', error: 'timeout' });
    expect(refusal(() => settleRequest('nack', 'q', { receipts: ['1:1'], error: 'x'.repeat(QUEUE_LIMITS.errorLengthMax + 1) }))).toMatch(/error/);
    expect(refusal(() => settleRequest('nack', 'q', { receipts: ['1:1'], error: 42 }))).toMatch(/error/);
  });
});

// Goal: a queue's default dead-letter queue can always be named by a request (found by the fuzz suite:
// the dead letters of a 128-character queue went to a 132-character queue no request could reach).
describe('dead-letter queue names', () => {
  const longest = 'q'.repeat(128);
  it('accepts a default dead-letter queue name of the longest queue name, and nothing longer', () => {
    expect(validQueueName(`${longest}.dlq`)).toBe(`${longest}.dlq`);
    expect(() => validQueueName(`${longest}x`)).toThrow(/queue names/);
    expect(() => validQueueName(`${longest}.dlqx`)).toThrow(/queue names/);
  });

  it('asks for an explicit deadLetterQueue where the default one could not be named', () => {
    expect(() => configureRequest(`${longest}.dlq`, { maxDeliveries: 3 })).toThrow(/give deadLetterQueue/);
    expect(configureRequest(`${longest}.dlq`, { maxDeliveries: 3, deadLetterQueue: 'parking' })).toMatchObject({ config: { deadLetterQueue: 'parking' } });
    expect(configureRequest(longest, { maxDeliveries: 3 })).toMatchObject({ config: { maxDeliveries: 3 } });
  });
});
