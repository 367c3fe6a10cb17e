import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/cli/config-error.ts';
import { nodeUsageText, parseNodeArgs, UsageError } from '../../../src/cli/node-args.ts';
import { NODE_SETTING_LIST, NODE_SETTINGS, OTHER_QUORUMQ_VARIABLES } from '../../../src/cli/node-config-schema.ts';
import { DEFAULT_NODE_OPTIONS } from '../../../src/server/node/node-options.ts';
import { FAILPOINTS_ENV } from '../../../src/storage/failpoints.ts';

// Goal: one schema gives every node setting a flag, a QUORUMQ_* variable and a config-file key; the
// sources stack defaults < file < environment < flags; anything unknown, mistyped or out of range
// stops the start with a message naming where it came from.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MIB = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), 'quorumq-node-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let files = 0;
function configFile(content: unknown): string {
  const path = join(scratch, `quorumq-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function parse(args: readonly string[], environment: Record<string, string> = {}) {
  return parseNodeArgs(['--port', '7101', ...args], ROOT, environment).options;
}

/** The problems a refused start reports, one per line. */
function refusal(args: readonly string[], environment: Record<string, string> = {}): string {
  try {
    parseNodeArgs([...args], ROOT, environment);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('the settings were accepted');
}

describe('where settings come from', () => {
  it('stacks defaults < config file < QUORUMQ_* variables < flags, setting by setting', () => {
    const file = configFile({ tickMs: 60, electionTicks: 12, votersMax: 3, leaderWaitMs: 1000 });
    const environment = { QUORUMQ_ELECTION_TICKS: '14', QUORUMQ_VOTERS_MAX: '7' };
    const options = parse(['--config', file, '--voters-max', '9'], environment);
    expect(options.tickMs).toBe(60); // file over default
    expect(options.electionTicks).toBe(14); // environment over file
    expect(options.votersMax).toBe(9); // flag over environment and file
    expect(options.leaderWaitMs).toBe(1000);
    expect(options.requestTimeoutMs).toBe(DEFAULT_NODE_OPTIONS.requestTimeoutMs);
  });

  it('takes the port and every other setting from the file or the environment alone', () => {
    const file = configFile({ port: 7201, dataDir: join(scratch, 'data'), seeds: ['127.0.0.1:7201'], insecure: true, allowedHosts: ['queue.example'] });
    const { options } = parseNodeArgs(['--config', file], ROOT, {});
    expect(options).toMatchObject({ port: 7201, advertisePort: 7201, dataDir: join(scratch, 'data'), seeds: ['127.0.0.1:7201'], insecure: true });
    expect(options.allowedHosts).toEqual(['queue.example']);
    const fromEnvironment = parseNodeArgs([], ROOT, { QUORUMQ_PORT: '7202', QUORUMQ_SEEDS: 'a:1,b:2', QUORUMQ_ENABLE_FAULT_INJECTION: 'true' });
    expect(fromEnvironment.options).toMatchObject({ port: 7202, seeds: ['a:1', 'b:2'], enableFaultInjection: true });
  });

  it('finds the file through QUORUMQ_CONFIG too, and --config wins over it', () => {
    const fromVariable = configFile({ tickMs: 70 });
    const fromFlag = configFile({ tickMs: 80 });
    expect(parse([], { QUORUMQ_CONFIG: fromVariable }).tickMs).toBe(70);
    expect(parse(['--config', fromFlag], { QUORUMQ_CONFIG: fromVariable }).tickMs).toBe(80);
  });

  it('reads MiB from flags and variables, bytes from the file (whose keys say Bytes)', () => {
    expect(parse(['--memory-budget-mb', '10']).memoryBudgetBytes).toBe(10 * MIB);
    expect(parse([], { QUORUMQ_DISK_RESERVE_MB: '0' }).diskReserveBytes).toBe(0);
    expect(parse(['--config', configFile({ requestBufferBytesMax: 3 * MIB })]).requestBufferBytesMax).toBe(3 * MIB);
  });

  it('reads the settings that had no flag before, and the new ones', () => {
    const options = parse([
      '--request-timeout-ms',
      '4000',
      '--snapshot-bytes',
      String(MIB),
      '--gossip-tick-ms',
      '200',
      '--peer-frame-bytes-max',
      String(48 * MIB),
      '--headers-timeout-ms',
      '5000',
      '--advertise-port',
      '17101',
      '--force-new-cluster',
    ]);
    expect(options).toMatchObject({
      requestTimeoutMs: 4000,
      snapshotBytes: MIB,
      gossipTickMs: 200,
      peerFrameBytesMax: 48 * MIB,
      headersTimeoutMs: 5000,
      port: 7101,
      advertisePort: 17101,
      forceNewCluster: true,
    });
    expect(parse([]).forceNewCluster).toBe(false);
  });

  it('ignores the QUORUMQ_* variables that are not node settings, and empty ones', () => {
    const environment = { [FAILPOINTS_ENV]: 'log.append.beforeSync=crash', QUORUMQ_SERVER: 'a:1', QUORUMQ_FUZZ_SEED: '7', QUORUMQ_TICK_MS: '' };
    expect(parse([], environment).tickMs).toBe(DEFAULT_NODE_OPTIONS.tickMs);
    expect(OTHER_QUORUMQ_VARIABLES).toContain(FAILPOINTS_ENV);
  });

  it('keeps the flags scripts and tests already use, with the same meaning', () => {
    const options = parse([
      '--host',
      '127.0.0.2',
      '--data-dir',
      'here',
      '--seeds',
      '127.0.0.1:7101,127.0.0.1:7102',
      '--bootstrap-expect',
      '1',
      '--tick-ms',
      '20',
      '--election-ticks',
      '20',
      '--voters-max',
      '3',
      '--dead-remove-after-ms',
      '0',
      '--stabilization-ms',
      '100',
      '--snapshot-entries',
      '50',
      '--disk-reserve-mb',
      '1',
      '--disk-stall-ms',
      '900',
      '--connections-max',
      '10',
      '--connections-per-address-max',
      '5',
      '--request-buffer-mb',
      '2',
      '--allowed-hosts',
      'a.example,b.example',
      '--insecure',
      '--enable-fault-injection',
      '--test-power-loss',
      '--log-level',
      'warn',
    ]);
    expect(options).toMatchObject({
      host: '127.0.0.2',
      advertiseHost: '127.0.0.2',
      dataDir: 'here',
      seeds: ['127.0.0.1:7101', '127.0.0.1:7102'],
      bootstrapExpect: 1,
      tickMs: 20,
      electionTicks: 20,
      votersMax: 3,
      deadRemoveAfterMs: 0,
      stabilizationMs: 100,
      snapshotEntries: 50,
      diskReserveBytes: MIB,
      diskStallMs: 900,
      connectionsMax: 10,
      connectionsPerAddressMax: 5,
      requestBufferBytesMax: 2 * MIB,
      allowedHosts: ['a.example', 'b.example'],
      insecure: true,
      enableFaultInjection: true,
      testPowerLoss: true,
    });
    for (const flag of ['--cluster-key-file', '--auth-file', '--tls-cert', '--tls-key', '--tls-ca']) {
      expect(NODE_SETTING_LIST.map((setting) => setting.flag)).toContain(flag);
    }
    expect(parseNodeArgs(['--port', '7101', '--log-level', 'debug'], ROOT, {}).logLevel).toBe('debug');
  });
});

describe('queues in the config file', () => {
  it('takes queue definitions checked as PUT /queues/:q checks its body', () => {
    const file = configFile({ queues: { orders: { visibilityMs: 30_000, maxDeliveries: 5, backoff: { baseMs: 100, maxMs: 1000 } }, audit: {} } });
    expect(parse(['--config', file]).queues).toEqual({ orders: { visibilityMs: 30_000, maxDeliveries: 5, backoff: { baseMs: 100, maxMs: 1000 } }, audit: {} });
    expect(parse([]).queues).toEqual({});
  });

  it('refuses a bad queue name or config, naming the queue and the field', () => {
    const message = refusal([
      '--port',
      '7101',
      '--config',
      configFile({ queues: { orders: { visibilityMs: 0 }, 'bad name': {}, dlq: { deadLetterQueue: 'dlq' } } }),
    ]);
    expect(message).toMatch(/key "queues", queue "orders": visibilityMs must be an integer from 1/);
    expect(message).toMatch(/queue "bad name": queue names match/);
    expect(message).toMatch(/queue "dlq": a queue cannot be its own deadLetterQueue/);
    expect(refusal(['--port', '7101', '--config', configFile({ queues: [] })])).toMatch(/"queues": must be an object/);
  });
});

describe('refusals name their source', () => {
  it('refuses an unknown key in the file, suggesting the likely one', () => {
    const file = configFile({ dataDirectory: 'x', tickMS: 50, wholeNewThing: 1 });
    const message = refusal(['--port', '7101', '--config', file]);
    expect(message).toContain(`config file ${file}, key "dataDirectory": not a node setting (did you mean dataDir?)`);
    expect(message).toContain('key "tickMS": not a node setting (did you mean tickMs?)');
    expect(message).toContain('key "wholeNewThing": not a node setting');
    expect(message.split('\n')).toHaveLength(3);
  });

  it('refuses an unknown QUORUMQ_* variable that looks like a setting', () => {
    expect(refusal(['--port', '7101'], { QUORUMQ_DATADIR: '/tmp/x' })).toBe(
      'environment variable QUORUMQ_DATADIR: not a node setting (did you mean QUORUMQ_DATA_DIR?)',
    );
    expect(refusal(['--port', '7101'], { QUORUMQ_TEST_POWER_LOSS: 'true' })).toMatch(/only as the flag --test-power-loss/);
    expect(refusal(['--port', '7101', '--config', configFile({ testPowerLoss: true })])).toMatch(/only as the flag --test-power-loss/);
  });

  it('refuses values of the wrong type from each source', () => {
    expect(refusal(['--port', '7101', '--config', configFile({ tickMs: '50' })])).toMatch(/key "tickMs": must be an integer, not "50"/);
    expect(refusal(['--port', '7101', '--config', configFile({ insecure: 'yes' })])).toMatch(/key "insecure": must be true or false/);
    expect(refusal(['--port', '7101', '--config', configFile({ seeds: 'a:1,b:2' })])).toMatch(/key "seeds": must be an array of strings/);
    expect(refusal(['--port', '7101'], { QUORUMQ_TICK_MS: 'fast' })).toBe('environment variable QUORUMQ_TICK_MS="fast": must be an integer');
    expect(refusal(['--port', '7101'], { QUORUMQ_INSECURE: 'yes' })).toMatch(/QUORUMQ_INSECURE="yes": must be true, false, 1 or 0/);
    expect(refusal(['--port', '7101', '--tick-ms', '1.5'])).toBe('--tick-ms "1.5": must be an integer');
    expect(refusal(['--port', '7101', '--log-level', 'loud'])).toMatch(/--log-level "loud": must be one of fatal, error/);
    expect(() => parseNodeArgs(['--port', '7101', '--tick-ms', 'soon'], ROOT, {})).toThrow(ConfigError);
  });

  it('refuses values out of range, in the unit of their source', () => {
    expect(refusal(['--port', '70000'])).toBe('--port "70000": must be from 1 to 65535');
    expect(refusal(['--port', '7101', '--config', configFile({ tickMs: 2 })])).toMatch(/key "tickMs": must be from 5 to 1000/);
    expect(refusal(['--port', '7101'], { QUORUMQ_VOTERS_MAX: '11' })).toMatch(/QUORUMQ_VOTERS_MAX="11": must be from 1 to 9/);
    expect(refusal(['--port', '7101', '--memory-budget-mb', '0'])).toMatch(/--memory-budget-mb "0": must be from 1 to 1048576 MiB/);
    expect(refusal(['--port', '7101', '--config', configFile({ memoryBudgetBytes: 1000 })])).toMatch(/must be from 1048576 to \d+ bytes/);
  });

  it('reports every problem of every source at once', () => {
    const message = refusal(['--port', '7101', '--tick-ms', 'x', '--config', configFile({ votersMax: 0 })], { QUORUMQ_SEEDZ: 'a:1' });
    expect(message.split('\n')).toHaveLength(3);
  });

  it('refuses a config file that is missing or not a JSON object', () => {
    expect(refusal(['--port', '7101', '--config', join(scratch, 'absent.json')])).toMatch(/absent\.json: cannot be read/);
    expect(refusal(['--port', '7101', '--config', configFile('{ "tickMs": ')])).toMatch(/not valid JSON/);
    expect(refusal(['--port', '7101', '--config', configFile([1])])).toMatch(/must hold a JSON object/);
  });

  it('keeps the checks between settings, and --disk-stall-ms within the election timeout', () => {
    expect(parse(['--disk-stall-ms', '750']).diskStallMs).toBe(750);
    expect(() => parse(['--disk-stall-ms', '500'])).toThrow(/disk-stall-ms must exceed the election timeout/);
    expect(() => parse(['--election-ticks', '20', '--disk-stall-ms', '900'])).toThrow(/disk-stall-ms/);
    expect(() => parse(['--disk-stall-ms', '600001'])).toThrow(/600000/);
  });

  it('refuses to advertise an address nobody can dial, saying to set --advertise-host', () => {
    expect(refusal(['--port', '7101', '--host', '0.0.0.0'])).toMatch(/--host "0\.0\.0\.0" is where this node listens.*set --advertise-host/);
    expect(refusal(['--port', '7101', '--host', '::'])).toMatch(/set --advertise-host/);
    expect(refusal(['--port', '7101', '--advertise-host', '0.0.0.0'])).toMatch(/--advertise-host "0\.0\.0\.0" is not an address/);
    expect(refusal(['--port', '7101', '--advertise-host', ''])).toMatch(/--advertise-host "" is not an address/);
    const options = parse(['--host', '0.0.0.0', '--advertise-host', '10.0.0.1', '--advertise-port', '17101']);
    expect(options).toMatchObject({ host: '0.0.0.0', advertiseHost: '10.0.0.1', port: 7101, advertisePort: 17101 });
  });

  it('refuses unknown flags and a missing port with the usage', () => {
    expect(() => parse(['--no-such-flag'])).toThrow(UsageError);
    expect(() => parseNodeArgs([], ROOT, {})).toThrow(UsageError);
    expect(() => parseNodeArgs(['--help'], ROOT, {})).toThrow(UsageError);
  });
});

describe('the schema', () => {
  it('covers every setting of NodeOptions, each flag and variable once', () => {
    const keys = NODE_SETTING_LIST.map((setting) => setting.key);
    for (const key of [...Object.keys(DEFAULT_NODE_OPTIONS), 'port', 'advertiseHost', 'advertisePort', 'dataDir', 'seeds']) expect(keys).toContain(key);
    const flags = NODE_SETTING_LIST.flatMap((setting) => (setting.flag === undefined ? [] : [setting.flag]));
    const variables = NODE_SETTING_LIST.flatMap((setting) => (setting.env === undefined ? [] : [setting.env]));
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(variables).size).toBe(variables.length);
    for (const variable of OTHER_QUORUMQ_VARIABLES) expect(variables).not.toContain(variable);
  });

  it('bounds every number, and marks the test-only settings as such', () => {
    for (const setting of NODE_SETTING_LIST) {
      if (setting.kind !== 'integer' && setting.kind !== 'mebibytes') continue;
      expect(setting.min, setting.key).toBeDefined();
      expect(setting.max, setting.key).toBeDefined();
    }
    expect(NODE_SETTINGS.testPowerLoss.help).toMatch(/^tests only/);
  });

  it('writes --help from the schema: every flag, variable and file key is in it', () => {
    const usage = nodeUsageText(ROOT);
    for (const setting of NODE_SETTING_LIST) {
      if (setting.flag !== undefined) expect(usage).toContain(setting.flag);
      if (setting.env !== undefined) expect(usage).toContain(setting.env);
      if (setting.fileKey !== undefined) expect(usage).toContain(`"${setting.fileKey}"`);
    }
    expect(usage).toContain('--config F');
    for (const line of usage.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
  });
});
