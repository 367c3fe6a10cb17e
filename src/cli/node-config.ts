import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateNodeOptions } from '../server/node/node-options.ts';
import { assert } from '../shared/index.ts';
import { closestName } from './closest-name.ts';
import type { ClusterDefaults } from './cluster-defaults.ts';
import { ConfigError } from './config-error.ts';
import {
  BUILT_IN_DEFAULTS,
  CONFIG_FILE_ENV,
  envNameOf,
  NODE_SETTING_LIST,
  type NodeConfig,
  type NodeSetting,
  OTHER_QUORUMQ_PREFIXES,
  OTHER_QUORUMQ_VARIABLES,
  type SettingKey,
} from './node-config-schema.ts';
import { parseQueueDefinitions } from './queue-definitions.ts';
import { UsageError } from './usage-error.ts';

const MIB = 1024 * 1024;
const ENV_PREFIX = 'QUORUMQ_';

/** Where a node's settings come from, lowest precedence last: flags, then the environment, then the file. */
export interface NodeConfigSources {
  /** What `parseArgs` made of the command line, by flag name: the text, or true for a boolean flag given. */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly clusterDefaults: ClusterDefaults;
}

type Values = { -readonly [K in SettingKey]?: NodeConfig[K] };

const BY_ENV = new Map(NODE_SETTING_LIST.filter((setting) => setting.env !== undefined).map((setting) => [setting.env!, setting]));
const BY_FILE_KEY = new Map(NODE_SETTING_LIST.filter((setting) => setting.fileKey !== undefined).map((setting) => [setting.fileKey!, setting]));

/**
 * The node's settings: defaults, overridden by the `--config` JSON file, then by `QUORUMQ_*`
 * variables, then by flags. Every problem in any source is reported at once, naming its source
 * (ConfigError); a missing port is a UsageError, so that the usage is printed.
 */
export function resolveNodeConfig(sources: NodeConfigSources): NodeConfig {
  const problems: string[] = [];
  const configFlag = sources.flags.config;
  const configFile = typeof configFlag === 'string' ? configFlag : nonEmpty(sources.environment[CONFIG_FILE_ENV]);
  const fromFile = configFile === undefined ? {} : fileValues(configFile, problems);
  const fromEnvironment = environmentValues(sources.environment, problems);
  const fromFlags = flagValues(sources.flags, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const { host, seeds, bootstrapExpect } = sources.clusterDefaults;
  const merged: Values = { ...BUILT_IN_DEFAULTS, host, seeds, bootstrapExpect, ...fromFile, ...fromEnvironment, ...fromFlags };
  const { port } = merged;
  if (port === undefined) throw new UsageError(`a port is required: --port N, ${envNameOf('port')} or "port" in the config file`);
  const config = {
    ...merged,
    port,
    advertiseHost: merged.advertiseHost ?? merged.host,
    advertisePort: merged.advertisePort ?? port,
    // The current directory, not the package's: an installed package's own folder is no place for data.
    dataDir: merged.dataDir ?? resolve('data', `node-${port}`),
  };
  assert(isComplete(config), 'every setting has a value or a default');
  validateNodeOptions(config);
  return config;
}

/** Every key of the table has a value: the built-in defaults cover all but those filled in above. */
function isComplete(values: Values): values is NodeConfig {
  return NODE_SETTING_LIST.every((setting) => setting.key in values);
}

// ------------------------------------------------------------ the file

function fileValues(path: string, problems: string[]): Values {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${where}: cannot be read (${error instanceof Error ? error.message : String(error)})`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problems.push(`${where}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${where}: must hold a JSON object of settings`);
    return {};
  }
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(parsed)) {
    const source = `${where}, key ${JSON.stringify(key)}`;
    const setting = BY_FILE_KEY.get(key);
    if (setting === undefined) {
      problems.push(`${source}: ${unknownSetting(key, [...BY_FILE_KEY.keys()], (other) => other.key === key)}`);
      continue;
    }
    const value = setting.kind === 'queues' ? parseQueueDefinitions(raw, source, problems) : jsonValue(setting, raw, source, problems);
    if (value !== undefined) values[setting.key] = value;
  }
  return values as Values;
}

/** A JSON value as its setting's kind wants it; a `mebibytes` setting takes bytes here, as its key says. */
function jsonValue(setting: NodeSetting, raw: unknown, source: string, problems: string[]): unknown {
  switch (setting.kind) {
    case 'integer':
    case 'mebibytes':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) return fail(problems, source, `must be an integer, not ${JSON.stringify(raw)}`);
      return inRange(setting, raw, 1, source, problems);
    case 'boolean':
      return typeof raw === 'boolean' ? raw : fail(problems, source, `must be true or false, not ${JSON.stringify(raw)}`);
    case 'string':
      return typeof raw === 'string' ? oneOfChoices(setting, raw, source, problems) : fail(problems, source, `must be a string, not ${JSON.stringify(raw)}`);
    case 'list':
      return Array.isArray(raw) && raw.every((item) => typeof item === 'string')
        ? raw.filter((item) => item !== '')
        : fail(problems, source, `must be an array of strings, not ${JSON.stringify(raw)}`);
    case 'queues':
      // parseQueueDefinitions reads them, before this is called.
      return assert(false, 'queue definitions are not read as a plain value');
  }
}

// ------------------------------------------------------------ the environment

function environmentValues(environment: Readonly<Record<string, string | undefined>>, problems: string[]): Values {
  const values: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(environment)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined || name === CONFIG_FILE_ENV) continue;
    const setting = BY_ENV.get(name);
    if (setting === undefined) {
      if (OTHER_QUORUMQ_VARIABLES.includes(name) || OTHER_QUORUMQ_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
      problems.push(
        `environment variable ${name}: ${unknownSetting(name, [...BY_ENV.keys()], (other) => other.flag !== undefined && envNameOf(other.flag.slice(2)) === name)}`,
      );
      continue;
    }
    // An empty variable is an unset one: how container and unit files leave a setting out.
    if (text === '') continue;
    const value = textValue(setting, text, `environment variable ${name}=${JSON.stringify(text)}`, problems);
    if (value !== undefined) values[setting.key] = value;
  }
  return values as Values;
}

// ------------------------------------------------------------ the flags

function flagValues(flags: Readonly<Record<string, string | boolean | undefined>>, problems: string[]): Values {
  const values: Record<string, unknown> = {};
  for (const setting of NODE_SETTING_LIST) {
    if (setting.flag === undefined) continue;
    const given = flags[setting.flag.slice(2)];
    if (given === undefined) continue;
    // A boolean flag can only turn its setting on: to turn off what the file or environment set, change them.
    const value = typeof given === 'boolean' ? given : textValue(setting, given, `${setting.flag} ${JSON.stringify(given)}`, problems);
    if (value !== undefined) values[setting.key] = value;
  }
  return values as Values;
}

// ------------------------------------------------------------ text, as flags and variables give it

/** Text as its setting's kind wants it; a `mebibytes` setting takes MiB here, as its flag's name says. */
function textValue(setting: NodeSetting, text: string, source: string, problems: string[]): unknown {
  switch (setting.kind) {
    case 'integer':
    case 'mebibytes': {
      if (!/^-?[0-9]{1,16}$/.test(text.trim())) return fail(problems, source, 'must be an integer');
      const value = Number(text.trim());
      return setting.kind === 'integer' ? inRange(setting, value, 1, source, problems) : inRange(setting, value * MIB, MIB, source, problems);
    }
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return fail(problems, source, 'must be true, false, 1 or 0');
    case 'string':
      return oneOfChoices(setting, text, source, problems);
    case 'list':
      return text.split(',').filter((item) => item !== '');
    case 'queues':
      // The file-only setting has no flag and no variable to come from.
      return assert(false, 'queue definitions come only from the config file');
  }
}

// ------------------------------------------------------------ checks shared by every source

/**
 * `value` in the setting's unit (bytes for `mebibytes`), checked against bounds given in the flag's
 * unit; `scale` is the unit the source wrote it in, which the message repeats.
 */
function inRange(setting: NodeSetting, value: number, scale: number, source: string, problems: string[]): number | undefined {
  const unitScale = setting.kind === 'mebibytes' ? MIB : 1;
  const min = (setting.min ?? Number.MIN_SAFE_INTEGER) * unitScale;
  const max = (setting.max ?? Number.MAX_SAFE_INTEGER) * unitScale;
  if (value >= min && value <= max) return value;
  const unit = setting.kind === 'mebibytes' ? (scale === MIB ? ' MiB' : ' bytes') : '';
  return fail(problems, source, `must be from ${min / scale} to ${max / scale}${unit}`);
}

function oneOfChoices(setting: NodeSetting, text: string, source: string, problems: string[]): string | undefined {
  if (setting.choices === undefined || setting.choices.includes(text)) return text;
  return fail(problems, source, `must be one of ${setting.choices.join(', ')}`);
}

/** Why a name is no setting: it is one of the flag-only or file-only ones, or a likely misspelling, or unknown. */
function unknownSetting(name: string, candidates: readonly string[], isRestricted: (setting: NodeSetting) => boolean): string {
  const restricted = NODE_SETTING_LIST.find(isRestricted);
  if (restricted?.flag !== undefined) return `can be given only as the flag ${restricted.flag}`;
  const closest = closestName(name, candidates);
  return `not a node setting${closest === undefined ? '' : ` (did you mean ${closest}?)`}`;
}

function fail(problems: string[], source: string, problem: string): undefined {
  problems.push(`${source}: ${problem}`);
  return undefined;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}
