import { describe, expect, it } from 'vitest';
import { QuorumqError } from '../../../src/client/index.ts';
import { failureOf } from '../../../src/client/retry-outcome.ts';

const error = (code: ConstructorParameters<typeof QuorumqError>[0]) => new QuorumqError(code, code);

describe('the error a retried call reports', () => {
  it('reports a definite refusal as such when nothing before it could have been applied', () => {
    expect(failureOf([{ error: error('NO_LEADER'), sent: true }]).code).toBe('NO_LEADER');
    expect(
      failureOf([
        { error: error('UNAVAILABLE'), sent: false },
        { error: error('QUEUE_FULL'), sent: true },
      ]).code,
    ).toBe('QUEUE_FULL');
  });

  it('reports an unknown outcome when an earlier attempt was sent and timed out, whatever the last answer', () => {
    const failure = failureOf([
      { error: error('TIMEOUT'), sent: true },
      { error: error('NO_LEADER'), sent: true },
    ]);
    expect(failure.code).toBe('TIMEOUT');
    expect(failure.retryable).toBe(true);
    expect(failure.message).toMatch(/may have been applied.*NO_LEADER/);
  });

  it('keeps an unknown last outcome as it is', () => {
    expect(
      failureOf([
        { error: error('NO_LEADER'), sent: true },
        { error: error('UNAVAILABLE'), sent: true },
      ]).code,
    ).toBe('UNAVAILABLE');
  });
});
