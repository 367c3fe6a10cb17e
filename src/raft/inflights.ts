import { assert } from '../shared/index.ts';

/**
 * Appends sent to one follower and not yet acknowledged, by the last index and the bytes each
 * carried. Bounds the leader's pipeline to a follower in count and in bytes: when either is
 * reached, the follower is paused until acknowledgements free room, so a slow follower costs the
 * leader a bounded amount of memory.
 */
export class Inflights {
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly capacity: number,
    private readonly bytesCapacity: number,
  ) {
    assert(capacity > 0 && bytesCapacity > 0, 'inflights capacity must be positive');
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity || this.bytes >= this.bytesCapacity;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights overflow');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    assert(previous === undefined || lastIndex > previous, 'inflights must grow monotonically');
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every append whose entries all lie at or below `index`. */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && this.lastIndexes[freed]! <= index) freed++;
    this.free(freed);
  }

  freeFirstOne(): void {
    this.free(Math.min(1, this.lastIndexes.length));
  }

  reset(): void {
    this.free(this.lastIndexes.length);
  }

  private free(count: number): void {
    if (count === 0) return;
    for (let i = 0; i < count; i++) this.bytes -= this.sizes[i]!;
    this.lastIndexes.splice(0, count);
    this.sizes.splice(0, count);
  }
}
