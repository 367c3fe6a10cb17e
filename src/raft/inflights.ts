import { assert } from '../shared/index.ts';

/**
 * Appends sent to one follower and not yet acknowledged, by the last index each carried. Bounds the
 * leader's pipeline to a follower: when full, the follower is paused until acknowledgements free it.
 */
export class Inflights {
  private lastIndexes: number[] = [];

  constructor(private readonly capacity: number) {
    assert(capacity > 0, 'inflights capacity must be positive');
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }

  add(lastIndex: number): void {
    assert(!this.full(), 'inflights overflow');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    assert(previous === undefined || lastIndex > previous, 'inflights must grow monotonically');
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every append whose entries all lie at or below `index`. */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && this.lastIndexes[freed]! <= index) freed++;
    if (freed > 0) this.lastIndexes.splice(0, freed);
  }

  freeFirstOne(): void {
    this.lastIndexes.shift();
  }

  reset(): void {
    this.lastIndexes = [];
  }
}
