import { assert } from './assert.ts';

/**
 * Nesting checks for values from outside: JSON text before `JSON.parse`, and values that arrived by
 * msgpack. Both are iterative, so a hostile input cannot overflow the stack while it is measured.
 */

/**
 * The nesting a message body, result or progress value may have. Our encoder and `JSON.stringify`
 * recurse, so this is what keeps a body from overflowing the stack when it is re-encoded for the log.
 */
export const BODY_DEPTH_MAX = 64;

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const BRACKET_OPEN = 0x5b; // [
const BRACKET_CLOSE = 0x5d; // ]
const BRACE_OPEN = 0x7b; // {
const BRACE_CLOSE = 0x7d; // }
const COMMA = 0x2c; // ,

/**
 * Whether JSON `text` nests arrays and objects at most `depthMax` deep (`[]` is depth 1), counting
 * brackets outside string literals, in one pass that stops at the first one too deep. It does not
 * validate: text it passes still goes to `JSON.parse`, which refuses what is not JSON.
 */
export function jsonTextDepthWithin(text: string, depthMax: number): boolean {
  return jsonTextShape(text, depthMax, Infinity) !== 'tooDeep';
}

/**
 * The same pass, also counting values: every array or object, and every element after a comma,
 * outside string literals. `JSON.parse` builds an object per `{` at a few hundred nanoseconds
 * each (9 MiB of small objects took 0.2-0.35 s here): a count bounds how long one body can hold
 * the event loop, whatever its byte size.
 */
export function jsonTextShape(text: string, depthMax: number, valuesMax: number): 'ok' | 'tooDeep' | 'tooMany' {
  assert(depthMax >= 0, `depthMax must not be negative, not ${depthMax}`);
  const length = text.length;
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      // An escape covers the one character after the backslash: \" does not end the string, \\ does not escape the quote after it.
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === BRACKET_OPEN || code === BRACE_OPEN) {
      depth++;
      if (depth > depthMax) return 'tooDeep';
      if (++values > valuesMax) return 'tooMany';
    } else if (code === BRACKET_CLOSE || code === BRACE_CLOSE) {
      // Never below zero, so stray closers in text that is not JSON cannot pay for deeper nesting after them.
      if (depth > 0) depth--;
    } else if (code === COMMA) {
      if (++values > valuesMax) return 'tooMany';
    }
  }
  return 'ok';
}

/**
 * Whether `value` nests arrays and plain objects at most `depthMax` deep (a top-level array or object
 * is depth 1; a Uint8Array and every other value is a leaf) and holds at most `nodesMax` values in
 * all, itself included. Walks with an explicit stack and stops at the first container too deep.
 * A cycle is refused once it passes `depthMax`.
 */
export function valueDepthWithin(value: unknown, depthMax: number, nodesMax = Infinity): boolean {
  assert(depthMax >= 0, `depthMax must not be negative, not ${depthMax}`);
  assert(nodesMax >= 1, `nodesMax must be at least 1, not ${nodesMax}`);
  if (!isContainer(value)) return true;
  // Only containers wait on the stack, each with its own depth; leaves are counted and left.
  const pending: object[] = [value];
  const pendingDepths: number[] = [1];
  let nodes = 1;
  while (pending.length > 0) {
    const container = pending.pop()!;
    const depth = pendingDepths.pop()!;
    if (depth > depthMax) return false;
    const children = Array.isArray(container) ? container : Object.values(container);
    nodes += children.length;
    if (nodes > nodesMax) return false;
    for (const child of children) {
      if (!isContainer(child)) continue;
      pending.push(child);
      pendingDepths.push(depth + 1);
    }
  }
  return true;
}

/** Arrays and plain objects, whose own enumerable values encoders walk into; everything else is a leaf. */
function isContainer(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
