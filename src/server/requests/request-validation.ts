import { PRODUCER_LIMITS, QUEUE_LIMITS, QUEUE_NAME_PATTERN } from '../../queue/index.ts';
import {
  BODY_DEPTH_MAX,
  type MessageInput,
  type ProducerStamp,
  type QueueConfigInput,
  RequestError,
  type Selector,
  valueDepthWithin,
  type WriteRequest,
} from '../../shared/index.ts';

/** Limits on what one request may carry, beyond the queue's own. */
export const REQUEST_LIMITS = {
  /** One message's body, encoded. */
  messageBytesMax: 1024 * 1024,
  /** One whole request (a batch of messages). */
  requestBytesMax: 16 * 1024 * 1024,
} as const;

type Json = Record<string, unknown>;

export function validQueueName(name: unknown): string {
  if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
    throw new RequestError('INVALID_QUEUE_NAME', 'queue names match [A-Za-z0-9._-]{1,128}');
  }
  return name;
}

export function objectBody(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('the body must be a JSON object');
  return value as Json;
}

export function enqueueRequest(queue: string, raw: unknown): WriteRequest {
  const body = objectBody(raw);
  const producer = body.producer === undefined ? {} : { producer: producerStamp(body.producer) };
  if (body.messages === undefined) return { op: 'enqueue', queue, messages: [messageInput(body)], batch: false, ...producer };
  const list = body.messages;
  if (!Array.isArray(list) || list.length === 0 || list.length > QUEUE_LIMITS.messagesPerBatchMax) {
    throw bad(`messages must be an array of 1 to ${QUEUE_LIMITS.messagesPerBatchMax} messages`);
  }
  return { op: 'enqueue', queue, messages: list.map((item) => messageInput(objectBody(item))), batch: true, ...producer };
}

function producerStamp(raw: unknown): ProducerStamp {
  const stamp = objectBody(raw);
  const { id, seq, settledBelow } = stamp;
  if (typeof id !== 'string' || id.length === 0 || id.length > PRODUCER_LIMITS.idLengthMax) {
    throw bad(`producer.id must be a string of 1 to ${PRODUCER_LIMITS.idLengthMax} characters`);
  }
  if (!isCount(seq) || !isCount(settledBelow) || settledBelow > seq) {
    throw bad('producer.seq and producer.settledBelow must be integers >= 0, settledBelow <= seq');
  }
  return { id, seq, settledBelow };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function messageInput(body: Json): MessageInput & { bytes: number } {
  if (!('body' in body) || body.body === undefined) throw bad('a message needs a body');
  jsonWithinDepth(body.body, 'a message body');
  const bytes = encodedBytes(body.body);
  if (bytes > REQUEST_LIMITS.messageBytesMax) {
    throw new RequestError('TOO_LARGE', `a message body is ${bytes} bytes; the limit is ${REQUEST_LIMITS.messageBytesMax}`);
  }
  const input: { body: unknown; bytes: number; priority?: number; delayMs?: number; dedupId?: string; ttlMs?: number } = { body: body.body, bytes };
  const priority = optionalInteger(body, 'priority', 0, QUEUE_LIMITS.priorityMax);
  const delayMs = optionalInteger(body, 'delayMs', 0, QUEUE_LIMITS.delayMsMax);
  const dedupId = optionalString(body, 'dedupId', QUEUE_LIMITS.dedupIdLengthMax);
  const ttlMs = optionalInteger(body, 'ttlMs', 0, QUEUE_LIMITS.ttlMsMax);
  if (priority !== undefined) input.priority = priority;
  if (delayMs !== undefined) input.delayMs = delayMs;
  if (dedupId !== undefined) input.dedupId = dedupId;
  if (ttlMs !== undefined) input.ttlMs = ttlMs;
  return input;
}

export function receiveRequest(queue: string, raw: unknown): WriteRequest {
  const body = raw === undefined ? {} : objectBody(raw);
  const visibilityMs = optionalInteger(body, 'visibilityMs', 1, QUEUE_LIMITS.visibilityMsMax);
  return {
    op: 'receive',
    queue,
    max: optionalInteger(body, 'max', 1, QUEUE_LIMITS.receiveMax) ?? 1,
    waitMs: optionalInteger(body, 'waitMs', 0, QUEUE_LIMITS.receiveWaitMsMax) ?? 0,
    ...(visibilityMs === undefined ? {} : { visibilityMs }),
  };
}

export function settleRequest(op: 'ack' | 'nack' | 'extend', queue: string, raw: unknown): WriteRequest {
  const body = objectBody(raw);
  const selector = selectorOf(body);
  if (op === 'ack') {
    const results = optionalResults(body, selector.receipts.length);
    return { op, queue, ...selector, ...(results === undefined ? {} : { results }) };
  }
  if (op === 'nack') {
    const delayMs = optionalInteger(body, 'delayMs', 0, QUEUE_LIMITS.delayMsMax);
    const error = optionalError(body);
    return { op, queue, ...selector, ...(delayMs === undefined ? {} : { delayMs }), ...(error === undefined ? {} : { error }) };
  }
  const visibilityMs = optionalInteger(body, 'visibilityMs', 1, QUEUE_LIMITS.visibilityMsMax);
  if (visibilityMs === undefined) throw bad('visibilityMs is required');
  return { op, queue, ...selector, visibilityMs };
}

/** One result per receipt, in the same order; each any JSON value of at most resultBytesMax. */
function optionalResults(body: Json, receiptCount: number): unknown[] | undefined {
  const results = body.results;
  if (results === undefined) return undefined;
  if (!Array.isArray(results) || results.length !== receiptCount) {
    throw bad(`results must be an array with one value per receipt (${receiptCount})`);
  }
  for (const [index, result] of results.entries()) {
    jsonWithinDepth(result, `results[${index}]`);
    const text = result === undefined ? undefined : JSON.stringify(result);
    if (text === undefined) throw bad(`results[${index}] must be a JSON value`);
    const bytes = Buffer.byteLength(text);
    if (bytes > QUEUE_LIMITS.resultBytesMax) throw bad(`results[${index}] is ${bytes} bytes as JSON; the limit is ${QUEUE_LIMITS.resultBytesMax}`);
  }
  return results as unknown[];
}

/** An empty error is allowed: a worker may fail with an exception that has no message. */
function optionalError(body: Json): string | undefined {
  const error = body.error;
  if (error === undefined) return undefined;
  if (typeof error !== 'string' || error.length > QUEUE_LIMITS.errorLengthMax) {
    throw bad(`error must be a string of at most ${QUEUE_LIMITS.errorLengthMax} characters`);
  }
  return error;
}

function selectorOf(body: Json): Selector {
  const ids = optionalStrings(body, 'ids');
  const receipts = optionalStrings(body, 'receipts');
  const total = ids.length + receipts.length;
  if (total === 0 || total > QUEUE_LIMITS.idsPerRequestMax) throw bad(`give 1 to ${QUEUE_LIMITS.idsPerRequestMax} ids or receipts`);
  return { ids, receipts };
}

/** `{ ids }`: the delayed messages of `queue` to make ready now. */
export function promoteRequest(queue: string, raw: unknown): WriteRequest {
  const ids = optionalStrings(objectBody(raw), 'ids');
  if (ids.length === 0 || ids.length > QUEUE_LIMITS.idsPerRequestMax) throw bad(`give 1 to ${QUEUE_LIMITS.idsPerRequestMax} ids`);
  return { op: 'promote', queue, ids };
}

export function configureRequest(queue: string, raw: unknown): WriteRequest {
  const body = raw === undefined ? {} : objectBody(raw);
  const config: { -readonly [K in keyof QueueConfigInput]: QueueConfigInput[K] } = {};
  const set = <K extends keyof QueueConfigInput>(key: K, value: QueueConfigInput[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set('visibilityMs', optionalInteger(body, 'visibilityMs', 1, QUEUE_LIMITS.visibilityMsMax));
  set('maxDeliveries', optionalInteger(body, 'maxDeliveries', 0, 1000));
  set('dedupWindowMs', optionalInteger(body, 'dedupWindowMs', 0, QUEUE_LIMITS.dedupWindowMsMax));
  set('maxLength', optionalInteger(body, 'maxLength', 1, QUEUE_LIMITS.maxLengthMax));
  set('maxBytes', optionalInteger(body, 'maxBytes', 1, QUEUE_LIMITS.maxBytesMax));
  set('messageTtlMs', optionalInteger(body, 'messageTtlMs', 0, QUEUE_LIMITS.ttlMsMax));
  set('retentionMs', optionalInteger(body, 'retentionMs', 0, QUEUE_LIMITS.retentionMsMax));
  if (body.deadLetterQueue !== undefined) {
    const deadLetterQueue = validQueueName(body.deadLetterQueue);
    if (deadLetterQueue === queue) throw bad('a queue cannot be its own deadLetterQueue');
    set('deadLetterQueue', deadLetterQueue);
  } else if (config.maxDeliveries !== undefined && config.maxDeliveries > 0 && !QUEUE_NAME_PATTERN.test(`${queue}.dlq`)) {
    // A dead-letter queue's own dead letters: its default (`<q>.dlq.dlq`) could not be named.
    throw bad(`the default deadLetterQueue ${queue}.dlq is not a valid queue name: give deadLetterQueue`);
  }
  if (body.backoff !== undefined) {
    const backoff = objectBody(body.backoff);
    const baseMs = optionalInteger(backoff, 'baseMs', 0, QUEUE_LIMITS.delayMsMax) ?? 1000;
    const maxMs = optionalInteger(backoff, 'maxMs', 0, QUEUE_LIMITS.delayMsMax) ?? 60_000;
    if (maxMs < baseMs) throw bad('backoff.maxMs must be at least backoff.baseMs');
    set('backoff', { baseMs, maxMs });
  }
  return { op: 'configure', queue, config };
}

function optionalInteger(body: Json, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function optionalString(body: Json, key: string, lengthMax: number): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax) {
    throw bad(`${key} must be a string of 1 to ${lengthMax} characters`);
  }
  return value;
}

function optionalStrings(body: Json, key: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 512)) {
    throw bad(`${key} must be an array of strings`);
  }
  return value as string[];
}

/**
 * Bodies and results are encoded again (JSON for their size, msgpack for the log), by encoders that
 * recurse: nesting is bounded before either runs, so no value can overflow the stack on its way to
 * the log, where an exception would stop the node.
 */
function jsonWithinDepth(value: unknown, what: string): void {
  if (!valueDepthWithin(value, BODY_DEPTH_MAX)) throw bad(`${what} nests deeper than ${BODY_DEPTH_MAX} levels`);
}

function encodedBytes(value: unknown): number {
  const text = JSON.stringify(value);
  if (text === undefined) throw bad('a message body must be JSON');
  return Buffer.byteLength(text);
}

function bad(message: string): RequestError {
  return new RequestError('BAD_REQUEST', message);
}
