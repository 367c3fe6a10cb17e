import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clusterDefaults } from '../../../src/cli/cluster-defaults.ts';
import { NODE_SETTING_LIST } from '../../../src/cli/node-config-schema.ts';
import { settingsTable, TABLE_END, TABLE_START, withSettingsTable } from '../../../src/cli/node-config-text.ts';

// Goal: the README's table of node settings is the one the schema writes; a setting added, renamed
// or re-documented in src/cli/node-config-schema.ts fails here until `npm run docs:config` is run.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe("the README's table of node settings", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('is up to date with the schema (npm run docs:config rewrites it)', () => {
    const table = settingsTable(clusterDefaults(ROOT));
    if (withSettingsTable(readme, table) !== readme) {
      expect.fail("README.md's table of node settings differs from src/cli/node-config-schema.ts: run npm run docs:config");
    }
  });

  it('has a row for every setting', () => {
    const section = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    for (const setting of NODE_SETTING_LIST) expect(section).toContain(`\`${setting.fileKey ?? setting.flag}\``);
  });

  it('is rewritten only between its markers', () => {
    expect(withSettingsTable(`intro\n${TABLE_START}\nold\n${TABLE_END}\nrest\n`, 'new')).toBe(`intro\n${TABLE_START}\n\nnew\n\n${TABLE_END}\nrest\n`);
    expect(() => withSettingsTable('no markers', 'new')).toThrow(/node-options:start/);
  });
});
