import type { ClusterDefaults } from './cluster-defaults.ts';
import { BUILT_IN_DEFAULTS, CONFIG_FILE_ENV, NODE_SETTING_LIST, type NodeSetting } from './node-config-schema.ts';

// `quorumq node --help` and the README's table of settings, both written from the schema: neither
// is edited by hand (`npm run docs:config` rewrites the README's; a unit test fails when it is stale).

const MIB = 1024 * 1024;
/** Where help text starts on a line of `--help`, and how wide the lines get. */
const HELP_COLUMN = 28;
const LINE_WIDTH = 120;

/** The README's generated table sits between these two lines. */
export const TABLE_START = '<!-- node-options:start -->';
export const TABLE_END = '<!-- node-options:end -->';

/** The default as people read it: MiB for `mebibytes`, "none" for no value, cluster/defaults.json's named. */
export function defaultText(setting: NodeSetting, clusterDefaults: ClusterDefaults): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  if (setting.defaultFrom === 'cluster') {
    const value: unknown = clusterDefaults[setting.key as keyof ClusterDefaults];
    return `${Array.isArray(value) ? value.join(',') : String(value)} (cluster/defaults.json)`;
  }
  const value: unknown = BUILT_IN_DEFAULTS[setting.key as keyof typeof BUILT_IN_DEFAULTS];
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return 'none';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'number' && setting.kind === 'mebibytes') return `${value / MIB} MiB`;
  return String(value);
}

/** The allowed values, in the flag's unit. */
export function rangeText(setting: NodeSetting): string {
  if (setting.choices !== undefined) return setting.choices.join(', ');
  if (setting.min === undefined || setting.max === undefined) return '';
  return `${setting.min}..${setting.max}${setting.kind === 'mebibytes' ? ' MiB' : ''}`;
}

function typeText(setting: NodeSetting): string {
  switch (setting.kind) {
    case 'mebibytes':
      return 'MiB (file: bytes)';
    case 'list':
      return 'list (a,b; file: array)';
    case 'queues':
      return 'object';
    default:
      return setting.kind;
  }
}

function flagLabel(setting: NodeSetting): string {
  if (setting.flag === undefined) return `"${setting.fileKey}" (config file only)`;
  return setting.placeholder === undefined ? setting.flag : `${setting.flag} ${setting.placeholder}`;
}

/** `quorumq node --help`. */
export function nodeUsage(clusterDefaults: ClusterDefaults): string {
  const lines = [
    'usage: quorumq node --port N [options]     (from a checkout: npm run node -- --port N [options])',
    ...wrap(
      'Each setting is a flag, a QUORUMQ_* environment variable or a key of a JSON config file, shown in [brackets]. ' +
        'A flag beats the environment, which beats the file, which beats the default. Unknown keys and variables, ' +
        'wrong types and values out of range stop the node before it starts.',
      0,
    ),
    ...entry('--config F', `a JSON file of settings (see README "Configuration"), with "queues" to configure at start [${CONFIG_FILE_ENV}]`),
  ];
  for (const setting of NODE_SETTING_LIST) {
    const where = [setting.env, setting.fileKey === undefined ? undefined : `"${setting.fileKey}"`].filter((part) => part !== undefined);
    const facts = [
      where.length === 0 ? 'flag only' : where.join(', '),
      setting.kind === 'mebibytes' ? 'MiB; bytes in the file' : undefined,
      rangeText(setting) === '' ? undefined : rangeText(setting),
      `default ${defaultText(setting, clusterDefaults)}`,
    ].filter((part) => part !== undefined);
    lines.push(...entry(flagLabel(setting), `${setting.help} [${facts.join('; ')}]`));
  }
  lines.push(...entry('--help', 'this text'));
  lines.push('  environment: QUORUMQ_FAILPOINTS=name=crash[@N],...  crash points for tests (see src/storage/failpoints.ts)');
  return lines.join('\n');
}

function entry(label: string, help: string): string[] {
  const head = `  ${label}`;
  const body = wrap(help, HELP_COLUMN);
  if (head.length < HELP_COLUMN - 1) return [head.padEnd(HELP_COLUMN) + body[0]!.trimStart(), ...body.slice(1)];
  return [head, ...body];
}

/** Words laid out in lines of at most LINE_WIDTH, each indented by `indent`. */
function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > LINE_WIDTH) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(' '.repeat(indent) + line);
  return lines;
}

/** The README's table: one row per setting. */
export function settingsTable(clusterDefaults: ClusterDefaults): string {
  const cell = (text: string | undefined) => (text === undefined || text === '' ? '' : `\`${text}\``);
  const rows = NODE_SETTING_LIST.map((setting) =>
    [
      setting.flag === undefined ? '' : cell(flagLabel(setting)),
      cell(setting.env),
      cell(setting.fileKey),
      typeText(setting),
      defaultCell(setting, clusterDefaults),
      rangeText(setting),
      setting.help.replaceAll('|', '\\|'),
    ].join(' | '),
  );
  return ['| flag | environment | file key | type | default | range | meaning |', '|---|---|---|---|---|---|---|', ...rows.map((row) => `| ${row} |`)].join(
    '\n',
  );
}

/** A value in code style, words (`the port`) and where a default comes from in plain text. */
function defaultCell(setting: NodeSetting, clusterDefaults: ClusterDefaults): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  const text = defaultText(setting, clusterDefaults);
  const note = ' (cluster/defaults.json)';
  return text.endsWith(note) ? `\`${text.slice(0, -note.length)}\`${note}` : `\`${text}\``;
}

/** `readme` with the text between the markers replaced by `table`. */
export function withSettingsTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end < start) throw new Error(`README.md needs the lines ${TABLE_START} and ${TABLE_END}, in that order`);
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}
