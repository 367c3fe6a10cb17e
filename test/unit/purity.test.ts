import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The cores must stay deterministic so the simulator can replay any schedule from its seed:
// no I/O, no wall clock, no global randomness, no timers (DESIGN §2, STYLE "Pure cores").
const PURE_FOLDERS = ['src/shared', 'src/raft', 'src/gossip', 'src/queue'];

const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /from\s+['"]node:/, why: 'imports a node: module' },
  { pattern: /from\s+['"](fs|path|os|net|http|https|crypto|child_process|events|timers)['"]/, why: 'imports a Node built-in' },
  { pattern: /from\s+['"]ws['"]/, why: 'imports ws' },
  { pattern: /from\s+['"]classic-level['"]/, why: 'imports classic-level' },
  { pattern: /\brequire\s*\(/, why: 'calls require' },
  { pattern: /\bimport\s*\(/, why: 'imports dynamically' },
  { pattern: /\bDate\b/, why: 'reads the wall clock (Date)' },
  { pattern: /\bperformance\s*\./, why: 'reads a clock (performance)' },
  { pattern: /\bhrtime\b/, why: 'reads a clock (hrtime)' },
  { pattern: /Math\s*\.\s*random/, why: 'uses global randomness' },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, why: 'uses a timer' },
  { pattern: /\bprocess\s*\./, why: 'touches the process' },
  { pattern: /\bawait\b|\basync\b|\bPromise\b/, why: 'is asynchronous' },
];

function sourceFiles(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

export function purityViolations(root: string): string[] {
  const violations: string[] = [];
  for (const folder of PURE_FOLDERS) {
    for (const file of sourceFiles(join(root, folder))) {
      const code = withoutComments(readFileSync(file, 'utf8'));
      for (const { pattern, why } of FORBIDDEN) {
        if (pattern.test(code)) violations.push(`${relative(root, file)} ${why}`);
      }
    }
  }
  return violations;
}

describe('pure cores', () => {
  it('src/shared, src/raft, src/gossip and src/queue use no I/O, clock, timer or global randomness', () => {
    expect(sourceFiles('src/raft').length).toBeGreaterThan(0);
    expect(purityViolations('.')).toEqual([]);
  });

  it('the check catches a forbidden call', () => {
    const code = withoutComments("import x from 'node:fs';\nconst t = Date.now(); // Math.random in a comment is fine\n");
    const hits = FORBIDDEN.filter(({ pattern }) => pattern.test(code)).map(({ why }) => why);
    expect(hits).toEqual(['imports a node: module', 'reads the wall clock (Date)']);
  });
});
