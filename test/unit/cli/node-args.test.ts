import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseNodeArgs, UsageError } from '../../../src/cli/node-args.ts';
import { DEFAULT_NODE_OPTIONS } from '../../../src/server/node/node-options.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function parse(...args: string[]) {
  return parseNodeArgs(['--port', '7101', ...args], ROOT).options;
}

describe('node arguments', () => {
  it('gives every option its default with only --port', () => {
    const options = parse();
    expect(options.port).toBe(7101);
    expect(options.diskStallMs).toBe(DEFAULT_NODE_OPTIONS.diskStallMs);
    expect(options.diskReserveBytes).toBe(DEFAULT_NODE_OPTIONS.diskReserveBytes);
  });

  it('takes --disk-stall-ms above the election timeout, and refuses it at or below, or beyond ten minutes', () => {
    expect(parse('--disk-stall-ms', '750').diskStallMs).toBe(750);
    // The election timeout is 10 ticks of 50 ms by default, 20 of 50 here.
    expect(() => parse('--disk-stall-ms', '500')).toThrow(/disk-stall-ms must exceed the election timeout/);
    expect(() => parse('--election-ticks', '20', '--disk-stall-ms', '900')).toThrow(/disk-stall-ms/);
    expect(() => parse('--disk-stall-ms', '600001')).toThrow(/at most 600000/);
    expect(() => parse('--disk-stall-ms', 'soon')).toThrow(UsageError);
  });

  it('takes --force-new-cluster, off unless given', () => {
    expect(parse().forceNewCluster).toBe(false);
    expect(parse('--force-new-cluster').forceNewCluster).toBe(true);
  });

  it('refuses unknown flags and a missing --port', () => {
    expect(() => parse('--no-such-flag')).toThrow();
    expect(() => parseNodeArgs([], ROOT)).toThrow(UsageError);
  });
});
