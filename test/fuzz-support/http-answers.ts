import { connect } from 'node:net';
import { type HttpFuzzInput, requestBytes } from './http-fuzz.ts';

/** What a node answered a fuzzed HTTP request, read off the raw socket, and whether that answer is allowed. */
export interface ParsedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** What came back for one request. */
export type HttpOutcome =
  | { readonly kind: 'response'; readonly response: ParsedResponse; readonly raw: Buffer }
  | { readonly kind: 'closed'; readonly raw: Buffer }
  | { readonly kind: 'abandoned'; readonly raw: Buffer }
  | { readonly kind: 'hung'; readonly raw: Buffer }
  | { readonly kind: 'garbage'; readonly raw: Buffer; readonly reason: string };

/**
 * Parses the first final response in `raw` (1xx interim responses skipped, 101 is final).
 * 'incomplete' while more bytes are needed; a reason when the bytes are no HTTP response.
 */
export function parseResponse(raw: Buffer, method: string, closed: boolean): ParsedResponse | 'incomplete' | { reason: string } {
  let offset = 0;
  for (;;) {
    const headEnd = raw.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) {
      if (raw.length - offset > 64 * 1024) return { reason: 'a response head over 64 KiB' };
      return 'incomplete';
    }
    const lines = raw.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (statusLine === null) return { reason: `bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}` };
    const status = Number(statusLine[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { reason: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      offset = bodyStart;
      continue;
    }
    if (status === 101 || status === 204 || status === 304 || method === 'HEAD') return { status, headers, body: Buffer.alloc(0) };
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const decoded = dechunk(raw.subarray(bodyStart));
      if (decoded === 'incomplete') return closed ? { reason: 'a chunked body cut short' } : 'incomplete';
      if (typeof decoded === 'object' && 'reason' in decoded) return decoded;
      return { status, headers, body: decoded };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) return { reason: `bad content-length ${headers['content-length']}` };
      if (raw.length - bodyStart < length) return closed ? { reason: 'a body shorter than its content-length' } : 'incomplete';
      return { status, headers, body: raw.subarray(bodyStart, bodyStart + length) };
    }
    // No length: the body runs to the close.
    return closed ? { status, headers, body: raw.subarray(bodyStart) } : 'incomplete';
  }
}

function dechunk(data: Buffer): Buffer | 'incomplete' | { reason: string } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return 'incomplete';
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isSafeInteger(size) || size < 0) return { reason: 'a bad chunk size in the response' };
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return 'incomplete';
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/**
 * Sends one request on a fresh connection and reads the first final response. A complete request
 * must be answered or the connection closed within `answerWithinMs` (a long poll may take 20 s);
 * for an incomplete one (a declared body that never comes) the node may wait: it is given
 * `incompleteWaitMs` and then abandoned.
 */
export function sendHttp(address: string, input: HttpFuzzInput, limits: { answerWithinMs: number; incompleteWaitMs: number }): Promise<HttpOutcome> {
  const { bytes, complete } = requestBytes(input);
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const raw = () => Buffer.concat(received);
    const examine = (closed: boolean) => {
      const parsed = parseResponse(raw(), input.method, closed);
      if (parsed === 'incomplete') {
        if (closed)
          finish(
            received.length === 0
              ? { kind: 'closed', raw: raw() }
              : { kind: 'garbage', raw: raw(), reason: 'the connection closed in the middle of a response' },
          );
        return;
      }
      if ('reason' in parsed) finish({ kind: 'garbage', raw: raw(), reason: parsed.reason });
      else finish({ kind: 'response', response: parsed, raw: raw() });
    };
    const timer = setTimeout(
      () => finish(complete ? { kind: 'hung', raw: raw() } : { kind: 'abandoned', raw: raw() }),
      complete ? limits.answerWithinMs : limits.incompleteWaitMs,
    );
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      examine(false);
    });
    socket.on('close', () => examine(true));
    socket.on('error', () => undefined);
    socket.on('connect', () => void writeInPieces(socket, bytes, input.splits));
  });
}

async function writeInPieces(socket: import('node:net').Socket, bytes: Buffer, splits: readonly number[]): Promise<void> {
  const cuts = [...new Set(splits.map((fraction) => Math.floor(fraction * bytes.length)))].filter((cut) => cut > 0 && cut < bytes.length).sort((a, b) => a - b);
  let offset = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(offset, cut));
    offset = cut;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// ------------------------------------------------------------------ the verdict

/** Codes a 503 may carry: the node is busy or between leaders, and says so. */
const RETRYABLE_503 = new Set(['NO_LEADER', 'UNAVAILABLE', 'OVERLOADED']);

/** How an answer was classed, for the tallies the suite prints. */
export type AnswerClass = 'json' | 'success' | 'parserRefusal' | 'expectRefusal' | 'upgradeAnswer' | 'health503' | 'closed' | 'abandoned';

/**
 * Whether `outcome` keeps the contract; a string says how it breaks it. Answers that come from
 * below the API are classed apart and allowed: the HTTP parser's bare `400` (the node's
 * clientError handler, for bytes that are no HTTP), Node's own 417 to an unknown `Expect`, and the
 * `ws` library's answers to a malformed
 * WebSocket upgrade (text bodies, on /ws and /peer only).
 */
export function judgeHttp(input: HttpFuzzInput, outcome: HttpOutcome): { verdict: AnswerClass } | { problem: string } {
  if (outcome.kind === 'closed') return { verdict: 'closed' };
  if (outcome.kind === 'abandoned') return { verdict: 'abandoned' };
  if (outcome.kind === 'hung') return { problem: `no answer and the connection still open (received ${outcome.raw.length} bytes)` };
  if (outcome.kind === 'garbage')
    return { problem: `the answer is no HTTP response: ${outcome.reason}; ${JSON.stringify(outcome.raw.subarray(0, 200).toString('latin1'))}` };
  const { status, headers, body } = outcome.response;
  const text = body.toString('utf8');
  const path = input.target.split('?')[0]!;
  const isUpgrade = input.headers.some(([name, value]) => name.toLowerCase() === 'upgrade' && value !== '');
  if (status === 400 && body.length === 0 && headers.connection === 'close' && headers['content-type'] === undefined) return { verdict: 'parserRefusal' };
  // Node's server answers an Expect it does not know (anything but 100-continue) itself.
  if (status === 417 && body.length === 0 && input.headers.some(([name]) => name.toLowerCase() === 'expect')) return { verdict: 'expectRefusal' };
  // A HEAD answer has no body to check: only its status.
  if (input.method === 'HEAD') {
    if (status === 500 || (status > 500 && status !== 503 && status !== 504)) return { problem: `status ${status} to HEAD` };
    return { verdict: status < 400 ? 'success' : 'json' };
  }
  if (
    isUpgrade &&
    (path === '/ws' || path === '/peer') &&
    (status === 101 || (status >= 400 && status < 500 && headers['content-type'] !== 'application/json'))
  )
    return { verdict: 'upgradeAnswer' };
  let json: unknown;
  const isJson = (headers['content-type'] ?? '').startsWith('application/json');
  if (isJson) {
    try {
      json = JSON.parse(text);
    } catch {
      return { problem: `status ${status} with a JSON content-type and a body that is no JSON: ${JSON.stringify(text.slice(0, 200))}` };
    }
  }
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (status < 400) return { verdict: 'success' };
  if (status === 503 && path === '/health' && (json as { status?: unknown } | undefined)?.status === 'unavailable') return { verdict: 'health503' };
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || typeof error.message !== 'string') {
    return { problem: `status ${status} without a { error: { code, message } } body: ${JSON.stringify(text.slice(0, 200))}` };
  }
  if (error.code === 'INTERNAL' || status === 500) return { problem: `status ${status} ${error.code}: ${error.message}` };
  if (status >= 500) {
    const allowed = (status === 503 && RETRYABLE_503.has(error.code)) || (status === 504 && error.code === 'TIMEOUT');
    if (!allowed) return { problem: `status ${status} ${error.code}: ${error.message}` };
  }
  return { verdict: 'json' };
}
