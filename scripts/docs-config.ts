// `npm run docs:config`: rewrites the table of node settings in README.md (between its
// node-options markers) from the schema, src/cli/node-config-schema.ts. A unit test
// (test/unit/cli/readme-settings.test.ts) fails while the README's table differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../cluster/local-cluster.ts';
import { clusterDefaults } from '../src/cli/cluster-defaults.ts';
import { settingsTable, withSettingsTable } from '../src/cli/node-config-text.ts';

const README = join(REPO_ROOT, 'README.md');
const before = readFileSync(README, 'utf8');
const after = withSettingsTable(before, settingsTable(clusterDefaults(REPO_ROOT)));
if (after === before) console.log('README.md: the table of node settings is up to date');
else {
  writeFileSync(README, after);
  console.log('README.md: the table of node settings rewritten from src/cli/node-config-schema.ts');
}
