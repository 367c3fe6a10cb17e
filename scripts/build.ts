// `npm run build` (and `npm pack`, through prepack): the package's JavaScript and declarations in dist/.
// Plain tsc: the sources already import with `.ts` extensions, which rewriteRelativeImportExtensions
// turns into `.js` in the output, so dist/ mirrors src/ file for file and needs no bundler. Then the
// files the program reads at run time beside its modules (the dashboard's), and checks that the output
// is what the package promises.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../cluster/local-cluster.ts';

const DIST = join(REPO_ROOT, 'dist');
/** Read at run time with `new URL(..., import.meta.url)`: they must sit where the module that reads them lands. */
const ASSET_FOLDERS = ['server/api/dashboard'] as const;
const BIN = join(DIST, 'cli', 'quorumq.js');
/** A relative import still ending in .ts would fail at run time in an installed package. */
const TS_IMPORT = /(?:from\s*|import\s*\(\s*)['"]\.{1,2}\/[^'"]*\.ts['"]/;

const started = performance.now();
rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json')], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
});
for (const folder of ASSET_FOLDERS) cpSync(join(REPO_ROOT, 'src', folder), join(DIST, folder), { recursive: true });
chmodSync(BIN, 0o755);

const problems: string[] = [];
if (!readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')) problems.push(`${BIN} does not start with its #! line`);
for (const file of filesUnder(DIST)) {
  if (file.endsWith('.js') && TS_IMPORT.test(readFileSync(file, 'utf8'))) problems.push(`${file} imports a .ts file`);
}
for (const required of ['client/index.js', 'client/index.d.ts', 'cli/node.js', 'server/api/dashboard/index.html']) {
  if (!existsSync(join(DIST, required))) problems.push(`dist/${required} is missing`);
}
if (problems.length > 0) {
  console.error(`build: the output is not what the package promises:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`build: dist/ written in ${Math.round(performance.now() - started)} ms`);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}
