import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { NodeOptions } from '../server/node/node-options.ts';
import { clusterDefaults } from './cluster-defaults.ts';
import { resolveNodeConfig } from './node-config.ts';
import { NODE_SETTING_LIST } from './node-config-schema.ts';
import { nodeUsage } from './node-config-text.ts';
import { UsageError } from './usage-error.ts';

export { clusterDefaults, UsageError };

/** `quorumq node --help`, written from the schema of settings. */
export function nodeUsageText(root: string): string {
  return nodeUsage(clusterDefaults(root));
}

/** Every flag of the schema, plus `--config` and `--help`: boolean settings are switches, the rest take a value. */
const FLAG_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  config: { type: 'string' },
  help: { type: 'boolean' },
  ...Object.fromEntries(
    NODE_SETTING_LIST.filter((setting) => setting.flag !== undefined).map((setting) => [
      setting.flag!.slice(2),
      { type: setting.kind === 'boolean' ? ('boolean' as const) : ('string' as const) },
    ]),
  ),
};

/**
 * The node's settings from `argv`, the `QUORUMQ_*` variables of `environment` and the file that
 * `--config` (or QUORUMQ_CONFIG) names; `root` is the package's folder, for cluster/defaults.json.
 */
export function parseNodeArgs(
  argv: string[],
  root: string,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): { options: NodeOptions; logLevel: string } {
  let flags: Record<string, string | boolean | undefined>;
  try {
    const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: FLAG_OPTIONS });
    // No option is `multiple`, so no value is a list: a repeated flag's last value is the one kept.
    flags = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Array.isArray(value) ? value.at(-1) : value]));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (flags.help === true) throw new UsageError('');
  const config = resolveNodeConfig({ flags, environment, clusterDefaults: clusterDefaults(root) });
  return { options: config, logLevel: config.logLevel };
}
