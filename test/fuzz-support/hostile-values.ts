import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { encode } from '../../src/shared/codec.ts';

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

// ------------------------------------------------------------------ JSON text

/** Writes `value` as JSON, with the literals JSON.stringify cannot write (1e999, -0, NaN) put in as tokens. */
export function hostileJsonText(value: unknown): string {
  const tokens: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof RawJsonToken) {
      tokens.push(item.text);
      return `\u0000TOKEN${tokens.length - 1}\u0000`;
    }
    if (typeof item === 'number' && !Number.isFinite(item)) {
      tokens.push(Number.isNaN(item) ? 'NaN' : item > 0 ? '1e999' : '-1e999');
      return `\u0000TOKEN${tokens.length - 1}\u0000`;
    }
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Uint8Array) return Array.from(item);
    return item;
  });
  if (text === undefined) return '';
  return text.replace(/"\\u0000TOKEN(\d+)\\u0000"/g, (_match, index: string) => tokens[Number(index)]!);
}

/** JSON text mutated as a broken client or an attacker would: cut short, a byte changed, padded. */
export const jsonTextMutation: fc.Arbitrary<(text: string) => string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant((text: string) => text) },
  { weight: 1, arbitrary: fc.nat().map((cut) => (text: string) => text.slice(0, text.length === 0 ? 0 : cut % text.length)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', 'é', '\uFFFF', '1e999', ' '))
      .map(([at, insert]) => (text: string) => {
        const position = text.length === 0 ? 0 : at % text.length;
        return `${text.slice(0, position)}${insert}${text.slice(position)}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      (text: string) => `${text}${text}`,
      (text: string) => ` \n\t${text}\n`,
      (text: string) => `\uFEFF${text}`,
      (text: string) => `[${text}]`,
    ),
  },
);

/** Raw JSON texts no JSON.stringify would write: deep nesting, huge numbers, tricks. */
export const rawJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(62, 64, 66, 67, 68, 69, 70, 80, 1500, 100_000).map((depth) => `{"body":${'['.repeat(depth)}${']'.repeat(depth)}}`),
  fc.constantFrom(66, 67, 68, 69, 1500).map((depth) => `{"messages":[{"body":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`),
  fc.constantFrom(5_000, 200_000).map((depth) => `${'['.repeat(depth)}`),
  fc.constantFrom(
    '{"body":1e999}',
    '{"body":1,"priority":1e999}',
    '{"max":-0}',
    '{"body":1,"priority":1.0}',
    '{"waitMs":1e-999}',
    '{"body":123456789012345678901234567890}',
    '{"body":1,"delayMs":9007199254740993}',
    '{"ids":["1"],"results":[1e999]}',
    '{"body":"\\ud800"}',
    '{"body":1,"__proto__":{"priority":42}}',
    '{"__proto__":{"body":1}}',
    '{"body":1,"body":2}',
    '{"body":1,"dedupId":"a","dedupId":{"x":1}}',
    '{"config":{"__proto__":{"visibilityMs":-5}}}',
    'null',
    '[]',
    '""',
    '1',
    'true',
    '{}',
    '{"body":}',
    '{"body":1',
    '{body:1}',
    "{'body':1}",
    '{"body":1}garbage',
    '{"body":NaN}',
    '{"body":Infinity}',
    '{"body":01}',
    '{"body":0x10}',
  ),
  fc.string({ maxLength: 64 }),
  fc.string({ maxLength: 64, unit: 'binary' }),
);

// ------------------------------------------------------------------ msgpack bytes

const recordsPackr = new Packr({ useRecords: true });
const clonePackr = new Packr({ structuredClone: true });
const bundlePackr = new Packr({ bundleStrings: true, useRecords: false });
const moreTypesPackr = new Packr({ moreTypes: true, useRecords: false });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)));
}

/** A msgpack map header for `count` entries. */
function mapHeader(count: number): Uint8Array {
  if (count < 16) return Uint8Array.of(0x80 | count);
  return Uint8Array.of(0xde, count >> 8, count & 0xff);
}

/** A map whose keys and values are given as encoded bytes. */
export function mapBytes(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  return concat([mapHeader(entries.length), ...entries.flatMap(([key, value]) => [key, value])]);
}

/** Values that only raw bytes can carry: extensions, records, huge declared lengths, bad UTF-8, deep nesting. */
export const hostileMsgpackValue: fc.Arbitrary<Uint8Array> = fc.oneof(
  // fixext 1/2/4/8/16 and ext 8 of any type (0 is msgpackr's undefined, -1 the timestamp).
  fc
    .tuple(fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8), fc.integer({ min: -128, max: 127 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
    .map(([code, type, data]) => concat([Uint8Array.of(code, type & 0xff), data.subarray(0, { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 }[code]!)])),
  fc
    .tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 40 }))
    .map(([type, data]) => concat([Uint8Array.of(0xc7, data.length, type & 0xff), data])),
  // Declared lengths far beyond the bytes that follow.
  fc.constantFrom(
    Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xdf, 0x7f, 0xff, 0xff, 0xff),
    Uint8Array.of(0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61),
    Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xf0, 0x00),
    Uint8Array.of(0xdc, 0xff, 0xff),
    Uint8Array.of(0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01),
    Uint8Array.of(0xc1),
    Uint8Array.of(0xa3, 0xff, 0xfe, 0xfd),
    Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0xca, 0x7f, 0xc0, 0, 0),
    Uint8Array.of(0xd4, 0x00, 0x00),
    Uint8Array.of(0xd6, 0xff, 0, 0, 0, 1),
  ),
  // Nesting: arrays of one, maps of one, from a little past the limits to far past them.
  fc
    .tuple(fc.constantFrom(63, 64, 65, 79, 80, 81, 1_000, 100_000), fc.boolean())
    .map(([depth, maps]) =>
      concat([new Uint8Array(depth * (maps ? 3 : 1)).map((_, index) => (maps ? [0x81, 0xa1, 0x61][index % 3]! : 0x91)), Uint8Array.of(0xc0)]),
    ),
  // Maps keyed by things that are not strings.
  fc.constantFrom(
    Uint8Array.of(0x81, 0xc0, 0x01),
    Uint8Array.of(0x81, 0x91, 0x01, 0x01),
    Uint8Array.of(0x81, 0x80, 0x01),
    Uint8Array.of(0x81, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01),
    Uint8Array.of(0x81, 0xc4, 0x01, 0x61, 0x01),
    Uint8Array.of(0x82, 0x01, 0x01, 0x01, 0x02),
  ),
  fc.jsonValue({ maxDepth: 2 }).map((value) => recordsPackr.pack([value, value])),
  fc.constantFrom(new Date(0), new Set([1]), new Map([[1, 2]]), /x/g, new Error('e'), BigInt(2) ** BigInt(70), new Float64Array(2)).map((value) => {
    try {
      return moreTypesPackr.pack(value);
    } catch {
      return Uint8Array.of(0xc1);
    }
  }),
  fc.string({ maxLength: 20 }).map((text) => bundlePackr.pack({ a: text, b: text, c: [text, text] })),
);

/** Whole frames as bytes no well-behaved encoder writes: records, structured clone, raw garbage. */
export function hostileFrameBytes(frame: fc.Arbitrary<Record<string, unknown>>, id: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    frame.map((value) => recordsPackr.pack(value)),
    frame.map((value) => {
      const cyclic: Record<string, unknown> = { ...value };
      cyclic.self = cyclic;
      return clonePackr.pack(cyclic);
    }),
    frame.map((value) => bundlePackr.pack(value)),
    // A map with a hostile value under a key, after a valid id and op.
    fc
      .tuple(
        id,
        fc.constantFrom('body', 'queue', 'op', 'ids', 'config', 'message', 'request', 'messages', 'id', '__proto__', 'constructor'),
        hostileMsgpackValue,
        frame,
      )
      .map(([frameId, key, bytes, value]) =>
        mapBytes([
          [encode('id'), encode(frameId)],
          [encode('op'), encode(value.op ?? 'enqueue')],
          [encode('t'), encode(value.t ?? 'raft')],
          [encode('queue'), encode(value.queue ?? 'fz-a')],
          [encode(key), bytes],
        ]),
      ),
    // A valid frame with bytes after it, or cut short.
    fc.tuple(frame, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([value, tail]) => concat([encode(value), tail])),
    fc.tuple(frame, fc.nat()).map(([value, cut]) => {
      const bytes = encode(value);
      return bytes.subarray(0, cut % Math.max(1, bytes.length));
    }),
    hostileMsgpackValue,
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.integer({ min: 0x80, max: 0x8f }), fc.uint8Array({ maxLength: 60 })).map(([header, rest]) => concat([Uint8Array.of(header), rest])),
    fc.constant(new Uint8Array(0)),
  );
}

/** Seeds for single inputs, derived from a run's seed, a batch and a position: stable and spread. */
export function inputSeed(base: number, stream: number, batch: number, position: number): number {
  let hash = (base ^ 0x9e3779b9) >>> 0;
  for (const part of [stream, batch, position]) {
    hash = Math.imul(hash ^ part, 0x85ebca6b) >>> 0;
    hash = (hash ^ (hash >>> 13)) >>> 0;
    hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
    hash = (hash ^ (hash >>> 16)) >>> 0;
  }
  return hash | 0;
}

/** One value of `arbitrary` for `seed`: the same value `fc.assert` starts from with that seed, so it can shrink it. */
export function generate<T>(arbitrary: fc.Arbitrary<T>, seed: number): T {
  return fc.sample(arbitrary, { seed, numRuns: 1 })[0]!;
}

/** A short, bounded description of an input for a failure message. */
export function describeInput(value: unknown, limit = 600): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : fc.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length <= limit ? text : `${text.slice(0, limit)}... (${text.length} characters)`;
}
