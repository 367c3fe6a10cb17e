import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterArgs } from '../../../src/cli/cluster-command.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

// Goal: `quorumq cluster` starts the nodes it is asked for, where it is asked, and passes what
// follows `--` to every node; anything else is a usage error (exit 2), before a node starts.
describe('quorumq cluster arguments', () => {
  it('defaults to three nodes from port 7001 with their data under ./data', () => {
    expect(parseClusterArgs([])).toEqual({ ports: [7001, 7002, 7003], dataRoot: resolve('data'), nodeArgs: [] });
  });

  it('takes a count, a base port, a data root and node flags after --', () => {
    const settings = parseClusterArgs([
      '--nodes',
      '5',
      '--base-port',
      '9000',
      '--data-root',
      '/tmp/q',
      '--',
      '--auth-file',
      'auth.json',
      '--log-level',
      'warn',
    ]);
    expect(settings).toEqual({ ports: [9000, 9001, 9002, 9003, 9004], dataRoot: '/tmp/q', nodeArgs: ['--auth-file', 'auth.json', '--log-level', 'warn'] });
  });

  it('refuses a bad count or port, a stray argument and an unknown flag', () => {
    for (const argv of [['--nodes', '0'], ['--nodes', '8'], ['--base-port', '65534'], ['stray'], ['--tls'], ['--auth-file', 'a.json']]) {
      expect(() => parseClusterArgs(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});
