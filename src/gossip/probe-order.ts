import { assert, type Prng } from '../shared/index.ts';
import { shuffle } from './sampling.ts';

/**
 * SWIM's round-robin probe order: each round visits every probeable member once in a fresh random
 * order. Unlike picking at random each time, this bounds how long a failed member can go unprobed
 * (two rounds), which is what makes failure detection time bounded.
 */
export class ProbeOrder {
  private order: string[] = [];
  private position = 0;

  /**
   * The next member of the round that is still in `probeable`; starts a new round when this one is
   * used up. Members that joined mid-round wait for the next round.
   */
  next(probeable: readonly string[], prng: Prng): string | undefined {
    if (probeable.length === 0) return undefined;
    const current = new Set(probeable);
    // Two passes at most: the rest of this round, then a whole new one drawn from `probeable`.
    for (let pass = 0; pass < 2; pass++) {
      while (this.position < this.order.length) {
        const candidate = this.order[this.position++]!;
        if (current.has(candidate)) return candidate;
      }
      this.order = shuffle(probeable, prng);
      this.position = 0;
    }
    assert(false, 'a fresh round of a non-empty member list yields a member');
  }
}
