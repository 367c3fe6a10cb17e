import fc from 'fast-check';
import { RawJsonToken } from './hostile-values.ts';

/** JSON text as a hostile HTTP client writes it: literals JSON cannot hold, broken syntax, deep nesting. */
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
