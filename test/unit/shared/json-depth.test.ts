import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BODY_DEPTH_MAX, jsonTextDepthWithin, jsonTextShape, valueDepthWithin } from '../../../src/shared/json-depth.ts';

// Goal: a body's nesting is measured without recursion, before it is parsed (JSON text) or re-encoded
// (a decoded value), and both measures agree on the same value.

/** `count` arrays, each holding the next, around a 1, as JSON text. */
function nestedText(count: number): string {
  return `${'['.repeat(count)}1${']'.repeat(count)}`;
}

describe('jsonTextDepthWithin', () => {
  it('accepts nesting exactly at the limit and refuses one level deeper', () => {
    expect(jsonTextDepthWithin('[[[]]]', 3)).toBe(true);
    expect(jsonTextDepthWithin('[[[]]]', 2)).toBe(false);
    expect(jsonTextDepthWithin('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(true);
    expect(jsonTextDepthWithin('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(false);
    expect(jsonTextDepthWithin(nestedText(BODY_DEPTH_MAX), BODY_DEPTH_MAX)).toBe(true);
    expect(jsonTextDepthWithin(nestedText(BODY_DEPTH_MAX + 1), BODY_DEPTH_MAX)).toBe(false);
  });

  it('counts scalars and empty text as depth 0', () => {
    expect(jsonTextDepthWithin('17', 0)).toBe(true);
    expect(jsonTextDepthWithin('', 0)).toBe(true);
    expect(jsonTextDepthWithin('[]', 0)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonTextDepthWithin('"[[[[{{{{"', 0)).toBe(true);
    expect(jsonTextDepthWithin(JSON.stringify({ text: '"[[[' }), 1)).toBe(true);
    expect(jsonTextDepthWithin(JSON.stringify(['\\"[[[', '{{']), 1)).toBe(true);
  });

  it('ends a string at a quote after an escaped backslash', () => {
    // The string is one backslash; the brackets after it are outside it.
    expect(JSON.stringify(['\\', [[1]]])).toBe('["\\\\",[[1]]]');
    expect(jsonTextDepthWithin('["\\\\",[[1]]]', 3)).toBe(true);
    expect(jsonTextDepthWithin('["\\\\",[[1]]]', 2)).toBe(false);
  });

  it('does not let stray closers in text that is not JSON pay for deeper nesting after them', () => {
    expect(jsonTextDepthWithin(']]]]][[[', 2)).toBe(false);
  });

  it('measures text far deeper than the call stack allows', () => {
    expect(jsonTextDepthWithin(nestedText(500_000), 499_999)).toBe(false);
    expect(jsonTextDepthWithin(nestedText(500_000), 500_000)).toBe(true);
  });
});

describe('valueDepthWithin', () => {
  it('counts arrays and plain objects as containers, and a Uint8Array as a leaf', () => {
    expect(valueDepthWithin(7, 0)).toBe(true);
    expect(valueDepthWithin({}, 0)).toBe(false);
    expect(valueDepthWithin({}, 1)).toBe(true);
    expect(valueDepthWithin([new Uint8Array(8)], 1)).toBe(true);
    expect(valueDepthWithin({ a: [{ b: [] }] }, 4)).toBe(true);
    expect(valueDepthWithin({ a: [{ b: [] }] }, 3)).toBe(false);
    const bare: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    bare['inner'] = [1];
    expect(valueDepthWithin(bare, 1)).toBe(false);
    expect(valueDepthWithin(bare, 2)).toBe(true);
  });

  it('refuses more values than nodesMax, the root included', () => {
    expect(valueDepthWithin([1, 2, 3], 1, 4)).toBe(true);
    expect(valueDepthWithin([1, 2, 3], 1, 3)).toBe(false);
    expect(valueDepthWithin({ a: [1], b: 2 }, 2, 4)).toBe(true);
    expect(valueDepthWithin({ a: [1], b: 2 }, 2, 3)).toBe(false);
  });

  it('measures values far deeper than the call stack allows, and refuses a cycle', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 200_000; level++) deep = [deep];
    expect(valueDepthWithin(deep, 200_000)).toBe(true);
    expect(valueDepthWithin(deep, BODY_DEPTH_MAX)).toBe(false);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(valueDepthWithin(cycle, BODY_DEPTH_MAX)).toBe(false);
  });

  it('agrees with jsonTextDepthWithin on the JSON text of the same value', () => {
    const texts = fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: texts })), fc.integer({ min: 0, max: 6 }), (value, depthMax) => {
        expect(jsonTextDepthWithin(JSON.stringify(value), depthMax)).toBe(valueDepthWithin(value, depthMax));
      }),
      { seed: 64, numRuns: 1000 },
    );
  });
});

describe('jsonTextShape', () => {
  it('counts containers and elements outside strings, and stops at the first value too many', () => {
    expect(jsonTextShape('[1,2,3]', 8, 3)).toBe('ok');
    expect(jsonTextShape('[1,2,3,4]', 8, 3)).toBe('tooMany');
    expect(jsonTextShape('{"a":{"b":1}}', 8, 2)).toBe('ok');
    expect(jsonTextShape('{"a":{"b":1},"c":2}', 8, 2)).toBe('tooMany');
    expect(jsonTextShape('["a,b,c,d,e"]', 8, 1)).toBe('ok');
    expect(jsonTextShape('[[[1]]]', 2, 100)).toBe('tooDeep');
    const many = JSON.stringify(Array.from({ length: 600_000 }, () => ({ a: 1 })));
    expect(jsonTextShape(many, 8, 1_000_000)).toBe('tooMany');
  });
});
