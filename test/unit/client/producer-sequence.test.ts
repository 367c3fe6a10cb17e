import { describe, expect, it } from 'vitest';
import { ProducerSequence } from '../../../src/client/producer-sequence.ts';

describe('ProducerSequence', () => {
  it('settles below the oldest unfinished request, whatever order requests finish in', () => {
    const producer = new ProducerSequence();
    const [a, b, c] = [producer.begin(), producer.begin(), producer.begin()];
    expect(producer.stamp(c)).toMatchObject({ seq: 2, settledBelow: 0 });
    producer.finish(b);
    expect(producer.stamp(c).settledBelow).toBe(0);
    producer.finish(a);
    expect(producer.stamp(c).settledBelow).toBe(2);
    producer.finish(c);
    const d = producer.begin();
    expect(producer.stamp(d)).toMatchObject({ seq: 3, settledBelow: 3 });
  });
});
