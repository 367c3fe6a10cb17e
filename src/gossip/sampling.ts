import { assert, type Prng } from '../shared/index.ts';

/** A new array with the items in a uniformly random order (Fisher-Yates). */
export function shuffle<T>(items: readonly T[], prng: Prng): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    const item = result[i]!;
    result[i] = result[j]!;
    result[j] = item;
  }
  assert(result.length === items.length, 'shuffle lost items');
  return result;
}

/** Up to `count` distinct items picked uniformly at random; fewer if there are fewer. */
export function sample<T>(items: readonly T[], count: number, prng: Prng): T[] {
  assert(Number.isSafeInteger(count) && count >= 0, 'sample count must be a natural number');
  const pool = [...items];
  const picked = Math.min(count, pool.length);
  // A partial Fisher-Yates: only the first `picked` slots are drawn.
  for (let i = 0; i < picked; i++) {
    const j = i + prng.int(pool.length - i);
    const item = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = item;
  }
  return pool.slice(0, picked);
}
