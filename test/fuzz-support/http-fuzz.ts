import fc from 'fast-check';
import { hostileJsonText, jsonTextMutation, rawJsonText } from './hostile-json.ts';
import { hostileString, hostileValue, messageIdValue, mutatedOnce, OP_FIELDS, queueName, requestFields, validConfigFields } from './hostile-values.ts';

/**
 * Hostile HTTP/1.1 requests written byte by byte on a raw TCP socket, and a strict reader of what
 * comes back. What a node may answer (docs/http-api.md):
 * a well-formed response, under 500 except 503 NO_LEADER/UNAVAILABLE/OVERLOADED and 504 TIMEOUT,
 * with `{ error: { code, message } }` on errors; or a closed connection. Never a 500.
 */

/** One request as the generator describes it; `bytes` is built from it by `requestBytes`. */
export interface HttpFuzzInput {
  /** Which node it goes to. */
  readonly node: number;
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly headers: readonly (readonly [string, string])[];
  /** How the body is framed: Content-Length (true, bogus, or none), chunked (good or bad). */
  readonly framing: Framing;
  readonly body: string;
  /** Where the bytes are split into separate writes (fractions of the length). */
  readonly splits: readonly number[];
  readonly lineEnd: '\r\n' | '\n';
}

type Framing =
  | { readonly kind: 'length' }
  | { readonly kind: 'none' }
  | { readonly kind: 'bogusLength'; readonly value: string }
  | { readonly kind: 'chunked'; readonly chunks: number; readonly fault: ChunkFault }
  | { readonly kind: 'both'; readonly value: string };

type ChunkFault = 'none' | 'badSize' | 'noTerminator' | 'sizeTooBig' | 'noCrlf' | 'extension' | 'trailer';

const ROUTE_TEMPLATES: readonly { method: string; path: string; op: string | undefined }[] = [
  { method: 'POST', path: '/queues/{q}/messages', op: 'enqueue' },
  { method: 'POST', path: '/queues/{q}/receive', op: 'receive' },
  { method: 'POST', path: '/queues/{q}/ack', op: 'ack' },
  { method: 'POST', path: '/queues/{q}/nack', op: 'nack' },
  { method: 'POST', path: '/queues/{q}/extend', op: 'extend' },
  { method: 'POST', path: '/queues/{q}/purge', op: undefined },
  { method: 'POST', path: '/queues/{q}/promote', op: 'promote' },
  { method: 'POST', path: '/queues/{q}/redrive', op: 'redrive' },
  { method: 'POST', path: '/queues/{q}/pause', op: undefined },
  { method: 'GET', path: '/queues/{q}/messages?state=delayed&limit=5', op: undefined },
  { method: 'GET', path: '/admin/backup', op: undefined },
  { method: 'GET', path: '/queues/{q}/messages/{id}', op: undefined },
  { method: 'PUT', path: '/queues/{q}', op: 'configure' },
  { method: 'GET', path: '/queues/{q}', op: undefined },
  { method: 'DELETE', path: '/queues/{q}', op: undefined },
  { method: 'GET', path: '/queues', op: undefined },
  { method: 'GET', path: '/cluster', op: undefined },
  { method: 'GET', path: '/health', op: undefined },
  { method: 'GET', path: '/metrics', op: undefined },
  { method: 'GET', path: '/dashboard', op: undefined },
  { method: 'GET', path: '/dashboard/dashboard.js', op: undefined },
  { method: 'GET', path: '/', op: undefined },
  { method: 'POST', path: '/admin/faults/drop', op: undefined },
  { method: 'GET', path: '/admin/faults', op: undefined },
  { method: 'GET', path: '/ws', op: undefined },
  { method: 'GET', path: '/peer', op: undefined },
];

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'get',
  'Post',
  'G\u0000ET',
  '',
  'GET GET',
  'X'.repeat(300),
];

/** Percent-encodes the UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, as on the wire). */
function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8'))
    encoded += /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return encoded;
}

/** Any value as text, as a careless client would put it in a path: an object with a hostile `toString` included. */
function asText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A path parameter: percent-encoded as a client would, raw, or with broken escapes. */
const pathParam = (value: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: value.map((item) => percentEncode(asText(item))) },
    { weight: 1, arbitrary: value.map((item) => asText(item)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%z', '%zz', '%E0%A4%A', '%00', '%2F', '%25', '%FF%FE', '..', '.', '%2e%2e', 'a%00b', '%C0%AF', 'x'.repeat(5000)),
    },
  );

const query: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?stale=1',
      '?stale=true',
      '?stale=0',
      '?stale=%',
      '?stale=1&stale=0',
      '?',
      '?&&&',
      '?a=%zz',
      '#frag',
      '?stale=1#x',
      `?${'q'.repeat(9000)}`,
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((text) => `?${text}`) },
);

/** Request targets: routes with mutated parameters, and targets that are no path at all. */
const target: fc.Arbitrary<{ method: string; target: string; op: string | undefined }> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(
        // Routes with a body (where validation has the most to do) come three times as often.
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...ROUTE_TEMPLATES.filter((route) => route.op !== undefined)) },
          { weight: 1, arbitrary: fc.constantFrom(...ROUTE_TEMPLATES) },
        ),
        pathParam(queueName),
        pathParam(messageIdValue),
        query,
      )
      .map(([route, queue, id, tail]) => ({ method: route.method, target: `${route.path.replace('{q}', queue).replace('{id}', id)}${tail}`, op: route.op })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '//[',
        '//',
        '/[',
        '*',
        'http://evil.example/queues',
        'http://127.0.0.1/cluster',
        '/%',
        '/%%',
        '/queues/%/messages',
        '',
        ' ',
        '/\u0000',
        '/\u00ff',
        '/queues/fz-a/messages/',
        '/queues//messages',
        '/queues/fz-a/messages/1/2',
        '/dashboard/../../etc/passwd',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/queues?stale=1',
        '/admin/faults/../../cluster',
        '/health?x',
        '/HEALTH',
        '/cluster/',
        `/${'a'.repeat(8_000)}`,
        `/${'a'.repeat(17_000)}`,
        `/${'a'.repeat(70_000)}`,
        `/queues/${'%41'.repeat(3000)}`,
        '/queues/\u00e9/messages',
        '/queues/a b/messages',
        '\\queues\\fz-a',
      )
      .map((path) => ({ method: 'GET', target: path, op: undefined as string | undefined })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ method: 'GET', target: `/${text}`, op: undefined as string | undefined })) },
);

/** A JSON body for a route's operation, with fields valid or hostile, mutated or not; or a raw trick. */
function bodyFor(op: string | undefined): fc.Arbitrary<string> {
  const configure = fc.oneof(
    validConfigFields,
    mutatedOnce(validConfigFields, ['visibilityMs', 'maxDeliveries', 'deadLetterQueue', 'backoff', 'maxLength', 'retentionMs']),
    OP_FIELDS.configure!.config as fc.Arbitrary<unknown>,
  );
  const fields = op === undefined ? fc.constant({}) : op === 'configure' ? configure : requestFields(op).map(({ queue: _queue, ...rest }) => rest);
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fields, jsonTextMutation).map(([value, mutate]) => mutate(hostileJsonText(value))) },
    { weight: 2, arbitrary: rawJsonText },
    { weight: 1, arbitrary: hostileValue.map((value) => hostileJsonText(value)) },
    { weight: 2, arbitrary: fc.constant('') },
  );
}

const headerName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'X-Fuzz',
    'Accept',
    'Cookie',
    'Authorization',
    'Origin',
    'Sec-Fetch-Site',
    'Expect',
    'Upgrade',
    'Connection',
    'Content-Type',
    'Content-Encoding',
    'Host',
    'Transfer-Encoding',
    'Content-Length',
    'Keep-Alive',
    'TE',
    'Trailer',
    'Sec-WebSocket-Key',
    'Sec-WebSocket-Version',
  ),
  fc.constantFrom('Bad Header', 'Bad:Header', 'X-\u0000', '', ' X-Lead', 'X-\u00e9', '(x)'),
  fc.string({ minLength: 1, maxLength: 12 }),
);

const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString.map((text) => text.slice(0, 2000)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\r\nInjected: 1',
      'a\rb',
      'a\nb',
      'x'.repeat(20_000),
      'x'.repeat(70_000),
      'close',
      'keep-alive',
      'upgrade',
      'websocket',
      '100-continue',
      'gzip',
      'chunked, chunked',
    ),
  },
);

interface HeaderChoices {
  readonly host: 'normal' | 'missing' | 'evil' | 'duplicate' | 'long' | 'empty' | 'localhost' | 'ipv6' | 'port';
  readonly contentType: 'json' | 'text' | 'none' | 'garbage';
  readonly origin: 'none' | 'evil' | 'null' | 'self' | 'crossSite';
  readonly upgrade: 'none' | 'websocket' | 'websocketBadKey' | 'h2c';
  readonly extra: readonly (readonly [string, string])[];
  readonly many: number;
  readonly connection: 'none' | 'close' | 'keep-alive';
}

const headerChoices: fc.Arbitrary<HeaderChoices> = fc.record({
  host: fc.oneof(
    { weight: 12, arbitrary: fc.constant('normal' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing', 'evil', 'duplicate', 'long', 'empty', 'localhost', 'ipv6', 'port') },
  ),
  contentType: fc.oneof({ weight: 12, arbitrary: fc.constant('json' as const) }, { weight: 1, arbitrary: fc.constantFrom('text', 'none', 'garbage') }),
  origin: fc.oneof({ weight: 12, arbitrary: fc.constant('none' as const) }, { weight: 1, arbitrary: fc.constantFrom('evil', 'null', 'self', 'crossSite') }),
  upgrade: fc.oneof({ weight: 20, arbitrary: fc.constant('none' as const) }, { weight: 1, arbitrary: fc.constantFrom('websocket', 'websocketBadKey', 'h2c') }),
  extra: fc.oneof(
    { weight: 12, arbitrary: fc.constant([] as (readonly [string, string])[]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }) },
  ),
  many: fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(100, 2_100) }),
  connection: fc.constantFrom('none', 'none', 'close', 'keep-alive'),
});

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 24, arbitrary: fc.constant({ kind: 'length' } as Framing) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' } as Framing) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '-1',
        'abc',
        '1e3',
        ' 12',
        '12, 12',
        '99999999999999999999',
        '17000000',
        '16777217',
        '0x10',
        '',
        '+5',
        '1.5',
        '\u0000',
        'LONGER',
        'SHORTER',
        'TWICE',
        'TWICE_DIFFERENT',
      )
      .map((value) => ({ kind: 'bogusLength', value }) as Framing),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: 4 }),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant('none' as const) },
          { weight: 1, arbitrary: fc.constantFrom('badSize', 'noTerminator', 'sizeTooBig', 'noCrlf', 'extension', 'trailer') },
        ),
      )
      .map(([chunks, fault]) => ({ kind: 'chunked', chunks, fault }) as Framing),
  },
  { weight: 1, arbitrary: fc.constantFrom('5', '0', 'abc').map((value) => ({ kind: 'both', value }) as Framing) },
);

/**
 * A whole hostile request to one of the nodes (listening on `ports`): mostly a route with the right
 * method and a mutated body, else anything.
 */
export function httpRequestArbitrary(ports: readonly number[]): fc.Arbitrary<HttpFuzzInput> {
  return fc
    .tuple(target, fc.nat({ max: ports.length - 1 }))
    .chain(([chosen, node]) =>
      fc.record({
        node: fc.constant(node),
        method: fc.oneof(
          { weight: 30, arbitrary: fc.constant(chosen.method === 'GET' && chosen.op === undefined ? 'GET' : chosen.method) },
          { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
        ),
        target: fc.constant(chosen.target),
        version: fc.oneof(
          { weight: 60, arbitrary: fc.constant('HTTP/1.1') },
          { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 extra', '', 'FTP/1.0', 'http/1.1') },
        ),
        choices: headerChoices,
        framing,
        body: bodyFor(chosen.op),
        splits: fc.oneof(
          { weight: 4, arbitrary: fc.constant([] as number[]) },
          { weight: 1, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }) },
        ),
        lineEnd: fc.oneof({ weight: 60, arbitrary: fc.constant('\r\n' as const) }, { weight: 1, arbitrary: fc.constant('\n' as const) }),
      }),
    )
    .map(({ choices, ...rest }) => ({ ...rest, headers: headersOf(choices, ports[rest.node]!) }));
}

function headersOf(choices: HeaderChoices, port: number): (readonly [string, string])[] {
  const headers: (readonly [string, string])[] = [];
  const host = {
    normal: [`127.0.0.1:${port}`],
    missing: [],
    evil: ['evil.example'],
    duplicate: [`127.0.0.1:${port}`, 'evil.example'],
    long: ['h'.repeat(600)],
    empty: [''],
    localhost: [`localhost:${port}`],
    ipv6: [`[::1]:${port}`],
    port: ['127.0.0.1:1'],
  }[choices.host];
  for (const value of host) headers.push(['Host', value]);
  if (choices.contentType === 'json') headers.push(['Content-Type', 'application/json']);
  else if (choices.contentType === 'text') headers.push(['Content-Type', 'text/plain']);
  else if (choices.contentType === 'garbage') headers.push(['Content-Type', 'application/json; charset=utf-\u00ff']);
  if (choices.origin === 'evil') headers.push(['Origin', 'https://evil.example']);
  else if (choices.origin === 'null') headers.push(['Origin', 'null']);
  else if (choices.origin === 'self') headers.push(['Origin', `http://127.0.0.1:${port}`]);
  else if (choices.origin === 'crossSite') headers.push(['Sec-Fetch-Site', 'cross-site']);
  if (choices.upgrade === 'websocket' || choices.upgrade === 'websocketBadKey') {
    headers.push(
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Version', '13'],
      ['Sec-WebSocket-Key', choices.upgrade === 'websocket' ? 'dGhlIHNhbXBsZSBub25jZQ==' : 'not a key'],
    );
  } else if (choices.upgrade === 'h2c')
    headers.push(['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']);
  else if (choices.connection !== 'none') headers.push(['Connection', choices.connection]);
  headers.push(...choices.extra);
  for (let index = 0; index < choices.many; index++) headers.push([`X-Many-${index}`, String(index)]);
  return headers;
}

/** The bytes of a request, and whether the node has all it needs to answer (else it may wait for more). */
export function requestBytes(input: HttpFuzzInput): { bytes: Buffer; complete: boolean } {
  const end = input.lineEnd;
  const body = Buffer.from(input.body, 'utf8');
  const headerLines = input.headers.map(([name, value]) => `${name}: ${value}`);
  let payload: Buffer = body;
  let complete = true;
  const framing = input.framing;
  switch (framing.kind) {
    case 'length':
      headerLines.push(`Content-Length: ${body.length}`);
      break;
    case 'none':
      break;
    case 'bogusLength': {
      const value =
        framing.value === 'LONGER'
          ? String(body.length + 7)
          : framing.value === 'SHORTER'
            ? String(Math.max(0, body.length - 3))
            : framing.value.startsWith('TWICE')
              ? String(body.length)
              : framing.value;
      headerLines.push(`Content-Length: ${value}`);
      // The same header twice: with one value (allowed), or two (a request smuggling classic).
      if (framing.value === 'TWICE') headerLines.push(`Content-Length: ${value}`);
      if (framing.value === 'TWICE_DIFFERENT') {
        headerLines.push(`Content-Length: ${body.length + 1}`);
        complete = false;
      }
      const declared = /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
      if (declared !== undefined && declared > body.length) complete = false;
      break;
    }
    case 'chunked': {
      headerLines.push('Transfer-Encoding: chunked');
      const built = chunkedBody(body, framing.chunks, framing.fault, end);
      payload = built.bytes;
      complete = built.complete;
      break;
    }
    case 'both':
      headerLines.push(`Content-Length: ${framing.value}`, 'Transfer-Encoding: chunked');
      payload = chunkedBody(body, 1, 'none', end).bytes;
      break;
  }
  const head = `${input.method} ${input.target}${input.version === '' ? '' : ` ${input.version}`}${end}${headerLines.map((line) => `${line}${end}`).join('')}${end}`;
  return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]), complete };
}

function chunkedBody(body: Buffer, chunks: number, fault: ChunkFault, end: string): { bytes: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  const size = Math.max(1, Math.ceil(body.length / chunks));
  let complete = true;
  for (let offset = 0; offset < body.length; offset += size) {
    const piece = body.subarray(offset, offset + size);
    const header =
      fault === 'badSize'
        ? 'zz'
        : fault === 'sizeTooBig'
          ? (piece.length + 10).toString(16)
          : fault === 'extension'
            ? `${piece.length.toString(16)};ext="x"`
            : piece.length.toString(16);
    parts.push(Buffer.from(`${header}${end}`), piece, Buffer.from(fault === 'noCrlf' ? '' : end));
  }
  if (fault === 'sizeTooBig') complete = false;
  if (fault === 'noTerminator') complete = false;
  else parts.push(Buffer.from(fault === 'trailer' ? `0${end}X-Trailer: 1${end}${end}` : `0${end}${end}`));
  return { bytes: Buffer.concat(parts), complete };
}
