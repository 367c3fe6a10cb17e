import fc from 'fast-check';

/** Single fuzz inputs by seed: derived, generated, and described for failure messages. */
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
