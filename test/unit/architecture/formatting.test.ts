import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, describe, expect, it } from 'vitest';

// Style is the formatter's job, not review's: `npm run lint` runs this same check, `npm run format`
// fixes what it finds. Running it as a test puts it in every CI run.
const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('formatting', () => {
  it('the tree is as the formatter writes it (npm run format fixes it)', () => {
    const check = spawnSync(process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '--colors=off', '.'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (check.status !== 0) assert.fail(`npm run lint finds differences; run npm run format:\n${(check.stdout + check.stderr).slice(0, 4000)}`);
    expect(check.stdout + check.stderr).toMatch(/Checked \d+ files/);
  });
});
