import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Prng } from '../../src/shared/index.ts';

/**
 * Damage to a stopped node's data directory (RELIABILITY #14, #15): what a bad disk or a crash in
 * the middle of a file system operation leaves. The node must notice, and never vote or acknowledge
 * on what it lost. Each returns what it did, for the fault record.
 */
export type DiskFault = 'truncate' | 'bitflip';

/** LevelDB's write-ahead logs, newest last (they are numbered), its tables, manifests, and the mark file. */
function dataFiles(dataDir: string): { logs: string[]; tables: string[]; manifests: string[]; mark: string[] } {
  const names = readdirSync(dataDir).filter((name) => statSync(join(dataDir, name)).isFile());
  const numbered = (suffix: string) => names.filter((name) => name.endsWith(suffix)).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  return {
    logs: numbered('.log'),
    tables: numbered('.ldb'),
    manifests: names.filter((name) => name.startsWith('MANIFEST-')),
    mark: names.filter((name) => name === 'acked-mark'),
  };
}

/** Cuts up to its whole length off the newest log (half the time), or off a random table, manifest or the mark file. */
export function truncateOne(dataDir: string, prng: Prng): string {
  const files = dataFiles(dataDir);
  const roll = prng.int(100);
  const pool = roll < 50 ? files.logs.slice(-1) : roll < 70 ? files.tables : roll < 85 ? files.manifests : files.mark;
  const chosen = pool.length > 0 ? pool : files.logs.slice(-1);
  if (chosen.length === 0) return 'nothing to truncate';
  const name = chosen[prng.int(chosen.length)]!;
  const size = statSync(join(dataDir, name)).size;
  if (size === 0) return `${name} is empty`;
  const cut = 1 + prng.int(size);
  truncateSync(join(dataDir, name), size - cut);
  return `truncated ${name} by ${cut} of ${size} bytes`;
}

/** Flips two random bits in every log and table file and in the mark file. */
export function flipBits(dataDir: string, prng: Prng): string {
  const files = dataFiles(dataDir);
  const flipped: string[] = [];
  for (const name of [...files.logs, ...files.tables, ...files.mark]) {
    const path = join(dataDir, name);
    const bytes = readFileSync(path);
    if (bytes.length === 0) continue;
    for (let i = 0; i < 2; i++) {
      const at = prng.int(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << prng.int(8));
    }
    writeFileSync(path, bytes);
    flipped.push(name);
  }
  return `flipped 2 bits in each of ${flipped.join(', ') || 'no file'}`;
}
