import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_LIMITS, failureDetectionTicksMax, Gossip, type GossipConfig, type GossipLimits, gossipConfig } from '../../../src/gossip/index.ts';
import { Prng } from '../../../src/shared/index.ts';
import { configError } from '../../support/config-error.ts';

describe('gossipConfig', () => {
  it('fills every limit from the defaults and keeps overrides', () => {
    expect(gossipConfig('g1', 'ws://g1', { piggybackMax: 4 })).toEqual({
      ...DEFAULT_GOSSIP_LIMITS,
      id: 'g1',
      address: 'ws://g1',
      piggybackMax: 4,
    });
  });

  it.each<[string, string, Partial<GossipLimits>]>([
    ['a probe timeout as long as the interval', 'probeTimeoutTicks must be below probeIntervalTicks', { probeTimeoutTicks: 10, probeIntervalTicks: 10 }],
    ['a minimum suspicion above the maximum', 'suspicionMinTicks must not exceed suspicionMaxTicks', { suspicionMinTicks: 200, suspicionMaxTicks: 100 }],
    ['a suspicion shorter than a probe interval', 'suspicionMinTicks must be at least probeIntervalTicks', { suspicionMinTicks: 9 }],
    ['syncs more frequent than probes', 'syncIntervalTicks must be at least probeIntervalTicks', { syncIntervalTicks: 5 }],
    [
      'a retention shorter than a suspicion and a sync',
      'deadRetentionTicks must be at least suspicionMaxTicks + syncIntervalTicks',
      { deadRetentionTicks: 300 },
    ],
    ['probing the dead after they are forgotten', 'deadProbeTicks must not exceed deadRetentionTicks', { deadProbeTicks: 3001 }],
    ['a single-member limit', 'membersMax must be between 2 and 4096', { membersMax: 1 }],
    ['a view too large to sync', 'membersMax must be between 2 and 4096', { membersMax: 5000 }],
    ['more indirect checks than members', 'indirectChecks must be below membersMax', { membersMax: 3, indirectChecks: 3 }],
    ['a zero interval', 'probeIntervalTicks must be an integer of at least 1', { probeIntervalTicks: 0 }],
    ['a fractional limit', 'piggybackMax must be an integer of at least 1', { piggybackMax: 1.5 }],
    ['a negative count that may otherwise be zero', 'indirectChecks must be an integer of at least 0', { indirectChecks: -1 }],
  ])('rejects %s with INVALID_CONFIG', (_, message, overrides) => {
    const error = configError(() => gossipConfig('g1', 'ws://g1', overrides));
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', retryable: false });
    expect(error?.message).toContain(message);
  });

  it('rejects an empty id or address, and the core checks a config built by hand', () => {
    expect(configError(() => gossipConfig('', 'ws://g1'))?.message).toContain('id must not be empty');
    expect(configError(() => gossipConfig('g1', ''))?.message).toContain('address must not be empty');
    const handMade: GossipConfig = { id: 'g1', address: 'ws://g1', ...DEFAULT_GOSSIP_LIMITS, probeTimeoutTicks: 99 };
    expect(configError(() => new Gossip(handMade, new Prng(1)))?.code).toBe('INVALID_CONFIG');
  });

  it('bounds failure detection by two probe rounds, one interval and the longest suspicion', () => {
    expect(failureDetectionTicksMax(DEFAULT_GOSSIP_LIMITS, 5)).toBe(8 * 10 + 160 + 1);
    expect(failureDetectionTicksMax(DEFAULT_GOSSIP_LIMITS, 8)).toBe(14 * 10 + 160 + 1);
  });
});
