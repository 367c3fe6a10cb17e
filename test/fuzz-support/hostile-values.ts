import fc from 'fast-check';

/**
 * Values a hostile client or peer puts where a field is expected: boundaries of every range the
 * protocol documents, every wrong type, nesting around the depth limits, long strings. Shared by
 * the HTTP, client-frame and peer-frame generators of the fuzz suite (test/integration/fuzz.test.ts).
 */

/**
 * Queue names the generators produce when they want a valid one. The fuzz suite deletes these
 * between batches, so the cluster's state stays bounded however long a soak runs. Every other name
 * they produce is invalid, so no generator can name the suite's guarded queue.
 */
export const QUEUE_POOL: readonly string[] = ['fz-a', 'fz-b', 'fz-b.dlq', 'fz_c', 'FZ.d', 'fz-e', '0', '.', '..', '-', 'x'.repeat(128)];

/** A stand-in for a JSON number literal that JSON.stringify cannot write: see `hostileJsonText`. */
export class RawJsonToken {
  constructor(readonly text: string) {}
}

/** Numbers at and around the documented limits (0..9, 20000, 1000, 2^53, ...), and past any range. */
export const boundaryNumber: fc.Arbitrary<number> = fc.constantFrom(
  -1,
  0,
  1,
  2,
  8,
  9,
  10,
  63,
  64,
  65,
  255,
  256,
  999,
  1000,
  1001,
  1024,
  4096,
  20_000,
  20_001,
  65_536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  43_200_000,
  43_200_001,
  604_800_000,
  604_800_001,
  10_000_000,
  10_000_001,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  1e21,
  1e308,
  -1e308,
  0.5,
  -0.5,
  1.0000001,
  -0,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
);

/** Strings chosen to trip parsers and printers: empty, control and separator characters, escapes, long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\r\n',
    '%',
    '%00',
    '%zz',
    '%E0%A4%A',
    '..',
    '/',
    '//[',
    '\\',
    '"',
    "'",
    '{}',
    '[]',
    'null',
    '__proto__',
    'constructor',
    'toString',
    '\uD800',
    '\uFFFF',
    'é',
    '😀',
    '1:1',
    '0:0',
    ':',
    '-1',
    '1e999',
    'NaN',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.constantFrom(255, 256, 1023, 1024, 1025, 4097, 65_537).map((length) => 'x'.repeat(length)),
);

/** Very long strings around the 1 MiB body limit and the 16 MiB request limit: rare, they cost time. */
export const hugeString: fc.Arbitrary<string> = fc.constantFrom(1024 * 1024 - 16, 1024 * 1024 + 16, 2 * 1024 * 1024).map((length) => 'y'.repeat(length));

/** `depth` arrays nested in one another around `leaf`: built iteratively, no recursion. */
export function nested(depth: number, leaf: unknown = 0): unknown {
  let value: unknown = leaf;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

/** `depth` objects nested under the key `k`, built iteratively. */
export function nestedObject(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = { k: value };
  return value;
}

/**
 * Nesting around the limits: 64 levels for a message body, 68 for an HTTP JSON body, 80 for a
 * client or peer frame. Kept at most 300 deep so that the suite's own encoders never overflow.
 */
export const deepValue: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(10, 62, 63, 64, 65, 66, 67, 68, 69, 78, 79, 80, 81, 300), fc.boolean())
  .map(([depth, objects]) => (objects ? nestedObject(depth) : nested(depth)));

/** Any JSON value, and every kind of wrong value for a field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: boundaryNumber },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, undefined, [], {}, [null], { '': null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.array(fc.oneof(boundaryNumber, hostileString), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new RawJsonToken('1e999'),
      new RawJsonToken('-0'),
      new RawJsonToken('123456789012345678901234567890'),
      new RawJsonToken('1E2'),
      new RawJsonToken('0.0'),
    ),
  },
);

/** A field that is mostly valid (so requests reach the code behind validation), otherwise hostile. */
export function field<T>(valid: fc.Arbitrary<T>, validWeight = 3): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: validWeight, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 2, arbitrary: hostileValue });
}

/** An integer field documented as min..max: valid values (up to `validCap`), its boundaries, or anything. */
export function integerField(min: number, max: number, validCap = max): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min, max: Math.min(max, validCap) }) },
    { weight: 2, arbitrary: fc.constantFrom(min - 1, min, max, max + 1, min + 0.5, -0, String(min), null, true) },
    { weight: 2, arbitrary: hostileValue },
  );
}

/**
 * A valid queue name from the pool most of the time; otherwise a name that breaks the rules
 * ([A-Za-z0-9._-]{1,128}) or is no string at all. Never the suite's guarded queue.
 */
export const queueName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...QUEUE_POOL) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 12 }), fc.constantFrom(' ', '/', '%', '!', 'é', '\u0000', '?', '#', ':', '*'))
      .map(([text, bad]) => `${text}${bad}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(129), 'fz a', '../fz-a', 'fz-a/', 'fz-a%2Fb') },
  { weight: 1, arbitrary: hostileValue.filter((value) => typeof value !== 'string') },
);

export const messageIdValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('1', '2', '0', '-1', '01', '1.5', '9007199254740993', '99999999999999999999999', 'abc', '', ' ', '%', '1:1'),
  fc.nat({ max: 5000 }).map(String),
  hostileString,
);

/** Lists of ids or receipts: plausible ones, wrong types inside, and lists past the 1000 limit. */
export const idList: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(messageIdValue, { maxLength: 4 }) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.tuple(fc.nat({ max: 3000 }), fc.nat({ max: 20 })).map(([id, lease]) => `${id}:${lease}`),
      { maxLength: 4 },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(999, 1000, 1001).map((length) => Array.from({ length }, (_, index) => String(index + 1))) },
  { weight: 2, arbitrary: hostileValue },
);

/** A message body: any JSON, deep, or around the 1 MiB limit (rarely). */
export const bodyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: hostileValue },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, '', 0, false) },
);

/** A message body that may be huge; huge ones are 1 in ~400, each costing up to 2 MiB of traffic. */
export const bodyValueMaybeHuge: fc.Arbitrary<unknown> = fc.oneof({ weight: 400, arbitrary: bodyValue }, { weight: 1, arbitrary: hugeString });

/** The fields of one message of an enqueue (`{ body, priority?, delayMs?, dedupId?, ttlMs? }`). */
export const messageFields = {
  body: bodyValueMaybeHuge,
  priority: integerField(0, 9),
  delayMs: integerField(0, 604_800_000, 2_000),
  dedupId: field(fc.string({ minLength: 1, maxLength: 8 })),
  ttlMs: integerField(0, 1_209_600_000, 5_000),
};

export const producerValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      { id: field(fc.string({ minLength: 1, maxLength: 8 })), seq: integerField(0, 2 ** 53 - 1, 50), settledBelow: integerField(0, 2 ** 53 - 1, 50) },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: hostileValue },
);

export const configValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        visibilityMs: integerField(1, 43_200_000, 60_000),
        maxDeliveries: integerField(0, 1000, 5),
        deadLetterQueue: queueName,
        backoff: field(fc.record({ baseMs: integerField(0, 3_600_000, 1000), maxMs: integerField(0, 3_600_000, 5000) }, { requiredKeys: [] })),
        dedupWindowMs: integerField(0, 86_400_000, 60_000),
        maxLength: integerField(0, 10_000_000, 100),
        maxBytes: integerField(0, 4 * 1024 ** 3, 100_000),
        messageTtlMs: integerField(0, 1_209_600_000, 5_000),
        retentionMs: integerField(0, 86_400_000, 60_000),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: hostileValue },
);

/** Extra keys a hostile request carries besides the documented ones. */
export const extraFields: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'id', 'op', 'then', 'length', ''),
    fc.string({ maxLength: 8 }),
  ),
  hostileValue,
  { maxKeys: 2 },
);

/** Long polls are held up to `waitMs`: valid values stay small, except the 20000 boundary, rarely. */
export const waitMsField: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 5, 50) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 20_001, 1e9, 0.5, '10', null, 20_000) },
  { weight: 3, arbitrary: hostileValue.filter((value) => typeof value !== 'number' || value < 0 || value > 20_000 || !Number.isInteger(value) || value <= 50) },
);

/** The fields of each client operation (docs/protocol.md); HTTP routes take the same ones as JSON. */
export const OP_FIELDS: Readonly<Record<string, Readonly<Record<string, fc.Arbitrary<unknown>>>>> = {
  enqueue: {
    ...messageFields,
    messages: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: fc.record(messageFields, { requiredKeys: [] }) }, { weight: 1, arbitrary: hostileValue }), {
          maxLength: 4,
        }),
      },
      { weight: 1, arbitrary: fc.constantFrom(1000, 1001).map((length) => Array.from({ length }, (_, index) => ({ body: index }))) },
      { weight: 1, arbitrary: hostileValue },
    ),
    producer: producerValue,
    batch: field(fc.boolean()),
  },
  receive: { max: integerField(1, 1000, 20), visibilityMs: integerField(1, 43_200_000, 60_000), waitMs: waitMsField },
  ack: { ids: idList, receipts: idList, results: field(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 })) },
  nack: { ids: idList, receipts: idList, delayMs: integerField(0, 604_800_000, 1000), error: field(fc.string({ maxLength: 40 })) },
  extend: { ids: idList, receipts: idList, visibilityMs: integerField(1, 43_200_000, 60_000) },
  configure: { config: configValue },
  purge: {},
  delete: {},
  getQueue: { stale: field(fc.boolean()) },
  getMessage: { messageId: field(messageIdValue), stale: field(fc.boolean()) },
  listQueues: { stale: field(fc.boolean()) },
  cluster: { stale: field(fc.boolean()) },
  subscribe: { prefetch: integerField(1, 1000, 5), visibilityMs: integerField(1, 43_200_000, 60_000) },
  unsubscribe: { subscription: integerField(1, 2 ** 53 - 1, 5) },
  auth: { token: field(fc.string({ maxLength: 64 })) },
  pause: {},
  resume: {},
  redrive: { to: field(queueName), max: integerField(1, 10_000_000, 5), ratePerSec: integerField(1, 1_000_000, 100) },
  promote: { ids: idList },
  peek: {
    state: field(fc.constantFrom('ready', 'delayed', 'inflight', 'waiting', 'acked', 'dead', 'READY', '')),
    limit: integerField(1, 1000, 10),
    after: field(messageIdValue),
    stale: field(fc.boolean()),
  },
};

const smallIds = fc.array(
  fc.nat({ max: 300 }).map((id) => String(id + 1)),
  { minLength: 1, maxLength: 3 },
);
const smallReceipts = fc.array(
  fc.tuple(fc.nat({ max: 300 }), fc.nat({ max: 5 })).map(([id, lease]) => `${id + 1}:${lease + 1}`),
  { minLength: 1, maxLength: 3 },
);
const validConfig = fc.record(
  {
    visibilityMs: fc.integer({ min: 1, max: 60_000 }),
    maxDeliveries: fc.integer({ min: 0, max: 5 }),
    deadLetterQueue: fc.constantFrom(...QUEUE_POOL),
    backoff: fc.record({ baseMs: fc.integer({ min: 0, max: 1000 }), maxMs: fc.integer({ min: 1000, max: 5000 }) }),
    dedupWindowMs: fc.integer({ min: 0, max: 60_000 }),
    maxLength: fc.integer({ min: 0, max: 100 }),
    maxBytes: fc.integer({ min: 0, max: 100_000 }),
    messageTtlMs: fc.integer({ min: 0, max: 5_000 }),
    retentionMs: fc.integer({ min: 0, max: 60_000 }),
  },
  { requiredKeys: [] },
);

/**
 * Requests every field of which is valid: they reach the leader, the log and the queue state
 * machine, where hostile values in a valid frame do their damage if validation let them through.
 */
export const VALID_FIELDS: Readonly<Record<string, fc.Arbitrary<Record<string, unknown>>>> = {
  enqueue: fc.oneof(
    fc.record(
      {
        body: fc.jsonValue({ maxDepth: 3 }),
        priority: fc.integer({ min: 0, max: 9 }),
        delayMs: fc.integer({ min: 0, max: 2_000 }),
        dedupId: fc.string({ minLength: 1, maxLength: 8 }),
        ttlMs: fc.integer({ min: 0, max: 5_000 }),
      },
      { requiredKeys: ['body'] },
    ),
    fc.record({
      messages: fc.array(
        fc.record(
          { body: fc.jsonValue({ maxDepth: 2 }), priority: fc.integer({ min: 0, max: 9 }), dedupId: fc.string({ minLength: 1, maxLength: 8 }) },
          { requiredKeys: ['body'] },
        ),
        { minLength: 1, maxLength: 5 },
      ),
    }),
    fc.record({
      body: fc.jsonValue({ maxDepth: 2 }),
      producer: fc.record({ id: fc.constantFrom('p1', 'p2'), seq: fc.nat({ max: 20 }), settledBelow: fc.constant(0) }),
    }),
  ),
  receive: fc.record(
    { max: fc.integer({ min: 1, max: 20 }), visibilityMs: fc.integer({ min: 1, max: 60_000 }), waitMs: fc.constantFrom(0, 1, 10) },
    { requiredKeys: [] },
  ),
  ack: fc.oneof(
    fc.record({ ids: smallIds }),
    fc.tuple(smallReceipts, fc.jsonValue({ maxDepth: 2 })).map(([receipts, result]) => ({ receipts, results: receipts.map(() => result) })),
  ),
  nack: fc
    .record({ ids: smallIds, receipts: smallReceipts, delayMs: fc.integer({ min: 0, max: 1_000 }), error: fc.string({ maxLength: 30 }) }, { requiredKeys: [] })
    .filter((fields) => fields.ids !== undefined || fields.receipts !== undefined),
  extend: fc.record({ ids: smallIds, visibilityMs: fc.integer({ min: 1, max: 60_000 }) }),
  promote: fc.record({ ids: smallIds }),
  configure: fc.record({ config: validConfig }),
  getQueue: fc.record({ stale: fc.boolean() }, { requiredKeys: [] }),
  getMessage: fc.record({ messageId: fc.nat({ max: 300 }).map((id) => String(id + 1)), stale: fc.boolean() }, { requiredKeys: ['messageId'] }),
  subscribe: fc.record({ prefetch: fc.integer({ min: 1, max: 10 }), visibilityMs: fc.integer({ min: 1, max: 60_000 }) }, { requiredKeys: ['prefetch'] }),
  unsubscribe: fc.record({ subscription: fc.integer({ min: 1, max: 5 }) }),
};

/** A valid config for `PUT /queues/:q`, whose fields are at the top level of the body. */
export const validConfigFields: fc.Arbitrary<Record<string, unknown>> = validConfig;

/** Ops that name a queue. */
export const QUEUE_OPS: ReadonlySet<string> = new Set([
  'enqueue',
  'receive',
  'ack',
  'nack',
  'extend',
  'configure',
  'purge',
  'delete',
  'getQueue',
  'getMessage',
  'subscribe',
  'pause',
  'resume',
  'redrive',
  'promote',
  'peek',
]);

/**
 * A request of one operation with its fields mutated: each documented field present or not,
 * valid or hostile, plus stray keys. `queue` is set for ops that name one.
 */
export function requestFields(op: string): fc.Arbitrary<Record<string, unknown>> {
  // Own keys only: `op` may be 'constructor' or '__proto__', which every object inherits.
  const fields = Object.hasOwn(OP_FIELDS, op) ? OP_FIELDS[op]! : {};
  const withQueue = QUEUE_OPS.has(op) ? { queue: queueName, ...fields } : fields;
  const hostile = fc
    .tuple(fc.record(withQueue, { requiredKeys: [] }), extraFields, fc.boolean())
    .map(([record, extra, extraFirst]) => (extraFirst ? { ...extra, ...record } : { ...record, ...extra }));
  const valid = Object.hasOwn(VALID_FIELDS, op) ? VALID_FIELDS[op] : undefined;
  if (valid === undefined) return hostile;
  const validWithQueue = QUEUE_OPS.has(op) ? fc.tuple(valid, fc.constantFrom(...QUEUE_POOL)).map(([record, queue]) => ({ queue, ...record })) : valid;
  return fc.oneof(
    { weight: 3, arbitrary: validWithQueue },
    { weight: 2, arbitrary: mutatedOnce(validWithQueue, [...Object.keys(withQueue), 'queue']) },
    { weight: 4, arbitrary: hostile },
  );
}

/** A valid request with exactly one field made hostile (or removed): what validation must catch alone. */
export function mutatedOnce(valid: fc.Arbitrary<Record<string, unknown>>, keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(valid, fc.constantFrom(...keys), fc.oneof({ weight: 4, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant(undefined) }))
    .map(([record, key, value]) => {
      const mutated = { ...record };
      if (value === undefined) delete mutated[key];
      else mutated[key] = value;
      return mutated;
    });
}

/** `op` is a known one most of the time; otherwise a made-up or wrong-typed one. */
export const opValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...Object.keys(OP_FIELDS)) },
  { weight: 1, arbitrary: fc.constantFrom('ENQUEUE', 'enqueue ', 'forward', 'hello', 'raft', '__proto__', 'constructor', 'toString', '') },
  { weight: 1, arbitrary: hostileValue },
);
