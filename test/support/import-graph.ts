import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// The import graph of a source tree, for tests that guard module structure (test/unit/architecture).
// The installed TypeScript (7.x) exposes no compiler API to JavaScript, so imports are found by a small
// tokenizer: it skips comments and the insides of strings, template literals and regular expressions,
// so text that only looks like an import is never taken for one.

/** File (repo-relative, `/`-separated) -> the files it imports, sorted. Only files that were scanned are keys. */
export type ImportGraph = Map<string, string[]>;

type Token = { kind: 'name' | 'string' | 'punct' | 'value'; text: string };

// After these words a `/` starts a regular expression, not a division.
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function regexAllowedAfter(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  if (previous.kind === 'name') return REGEX_AFTER_WORD.has(previous.text);
  // `)`, `]` and `}` usually end an expression (`f(x) / 2`); a regex right after a block's `}` is
  // rare enough to accept the misreading, which would only matter if the regex held a quote.
  if (previous.kind === 'punct') return !')]}'.includes(previous.text);
  return false; // after a string, number, template or regex
}

/** The index just past the quote that closes the string opened at `start`, and the string's value. */
function readQuoted(source: string, start: number): [value: string, end: number] {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  while (i < source.length && source[i] !== quote && source[i] !== '\n') {
    if (source[i] === '\\') i++; // an escaped character stands for itself: good enough for specifiers
    value += source[i] ?? '';
    i++;
  }
  return [value, i + 1];
}

/** Reads template text from `start` to the closing backtick (`closed`) or to just past a `${`. */
function readTemplateText(source: string, start: number): { end: number; closed: boolean } {
  let i = start;
  while (i < source.length) {
    if (source[i] === '\\') i += 2;
    else if (source[i] === '`') return { end: i + 1, closed: true };
    else if (source[i] === '$' && source[i + 1] === '{') return { end: i + 2, closed: false };
    else i++;
  }
  return { end: i, closed: true };
}

/** The index just past a regular expression literal starting at `start` (a `/`), or undefined if none is there. */
function readRegex(source: string, start: number): number | undefined {
  let inClass = false;
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\n') return undefined;
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      let end = i + 1;
      while (end < source.length && /[a-z]/i.test(source[end]!)) end++; // flags
      return end;
    }
  }
  return undefined;
}

/** Names, string literals and punctuation of a source text; comments dropped; templates, numbers and regexes reduced to a `value`. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // For each open `${`, the brace depth at which it opened: the `}` that returns to it resumes the template.
  const openTemplates: number[] = [];
  let braces = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      const [value, end] = readQuoted(source, i);
      tokens.push({ kind: 'string', text: value });
      i = end;
    } else if (c === '`' || (c === '}' && openTemplates.at(-1) === braces)) {
      if (c === '}') openTemplates.pop();
      const { end, closed } = readTemplateText(source, i + 1);
      if (closed) tokens.push({ kind: 'value', text: '`' });
      else openTemplates.push(braces);
      i = end;
    } else if (c === '/' && regexAllowedAfter(tokens.at(-1)) && readRegex(source, i) !== undefined) {
      i = readRegex(source, i)!; // its quotes and slashes are no strings or comments
      tokens.push({ kind: 'value', text: '/regex/' });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const match = /^[\w$\u0080-\uffff]+/.exec(source.slice(i, i + 200))!;
      tokens.push({ kind: 'name', text: match[0] });
      i += match[0].length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      const match = /^[\w.]+/.exec(source.slice(i, i + 100))!;
      tokens.push({ kind: 'value', text: match[0] });
      i += match[0].length;
    } else {
      if (c === '{') braces++;
      if (c === '}') braces--;
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

const isPunct = (token: Token | undefined, text: string): boolean => token?.kind === 'punct' && token.text === text;
const isName = (token: Token | undefined, text: string): boolean => token?.kind === 'name' && token.text === text;

/**
 * The specifier of an import or re-export clause starting at tokens[start] (just after `import`/`export`):
 * the string after the `from` that ends `{ a, b as c }`, `* as ns`, `name`, `type ...`. Undefined when the
 * tokens stop looking like such a clause (`export const x = ...`, `import x = require(...)`).
 */
function clauseSpecifier(tokens: Token[], start: number): string | undefined {
  for (let j = start; j < tokens.length; j++) {
    const token = tokens[j]!;
    if (isName(token, 'from') && tokens[j + 1]?.kind === 'string') return tokens[j + 1]!.text;
    if (token.kind === 'name' && token.text !== 'import' && token.text !== 'export') continue;
    if (token.kind === 'punct' && '{},*'.includes(token.text)) continue;
    return undefined;
  }
  return undefined;
}

/**
 * Every module specifier a source text imports or re-exports: `import ... from`, `import type ... from`,
 * `export {...} from`, `export * from`, side-effect `import '...'`, and `import('...')` with a string
 * literal (which also covers type positions such as `typeof import('./x.ts')`).
 */
export function importSpecifiers(source: string): string[] {
  const tokens = tokenize(source);
  const specifiers: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if (token.kind !== 'name' || (token.text !== 'import' && token.text !== 'export')) continue;
    if (isPunct(tokens[k - 1], '.')) continue; // a property that happens to be called import/export
    const next = tokens[k + 1];
    if (token.text === 'import') {
      if (next?.kind === 'string') {
        specifiers.push(next.text); // import './side-effect.ts'
        continue;
      }
      if (isPunct(next, '(')) {
        const argument = tokens[k + 2];
        if (argument?.kind === 'string' && (isPunct(tokens[k + 3], ')') || isPunct(tokens[k + 3], ','))) specifiers.push(argument.text);
        continue;
      }
    }
    // `export` re-exports only when `*` or `{` follows (after an optional `type`); otherwise it
    // declares something, and scanning on would wander into a class or interface body.
    const first = isName(next, 'type') ? tokens[k + 2] : next;
    if (token.text === 'export' && !isPunct(first, '*') && !isPunct(first, '{')) continue;
    const specifier = clauseSpecifier(tokens, k + 1);
    if (specifier !== undefined) specifiers.push(specifier);
  }
  return specifiers;
}

/** Every `.ts` file under a directory, absolute paths, sorted. */
export function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
    })
    .sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file a relative specifier names: the file itself (specifiers carry `.ts`), or a directory's index.ts. */
export function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  const target = resolve(dirname(fromFile), specifier);
  if (isFile(target)) return target;
  if (isFile(join(target, 'index.ts'))) return join(target, 'index.ts');
  return undefined;
}

const isRelative = (specifier: string): boolean => specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';

/**
 * The import graph of every `.ts` file under `root/directory`, keyed by paths relative to `root`.
 * Package imports (`node:*`, `ws`, `pino`, ...) are not edges. A relative specifier that names no file
 * is listed in `unresolved` as `file -> specifier`: a missing edge could hide a circle.
 */
export function buildImportGraph(root: string, directory: string): { graph: ImportGraph; unresolved: string[] } {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  const name = (path: string): string => relative(root, path).split(sep).join('/');
  for (const file of sourceFiles(join(root, directory))) {
    const targets = new Set<string>();
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!isRelative(specifier)) continue;
      const target = resolveSpecifier(file, specifier);
      if (target === undefined) unresolved.push(`${name(file)} -> ${specifier}`);
      else targets.add(name(target));
    }
    graph.set(name(file), [...targets].sort());
  }
  return { graph, unresolved };
}

/** Tarjan's strongly connected components, iterative so no graph size can overflow the call stack. */
export function stronglyConnectedComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const enter = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
  };
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    enter(root);
    // The depth-first path, each node with how many of its successors it has looked at so far.
    const path: { node: string; next: number }[] = [{ node: root, next: 0 }];
    while (path.length > 0) {
      const frame = path.at(-1)!;
      const successors = graph.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const successor = successors[frame.next++]!;
        if (!index.has(successor)) {
          enter(successor);
          path.push({ node: successor, next: 0 });
        } else if (onStack.has(successor)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(successor)!));
        }
        continue;
      }
      path.pop();
      const parent = path.at(-1);
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** The shortest path from `from` to `to` that stays inside `within`, both ends included. */
function shortestPath(graph: ImportGraph, from: string, to: string, within: Set<string>): string[] {
  const cameFrom = new Map<string, string | undefined>([[from, undefined]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    if (node === to) break;
    for (const successor of graph.get(node) ?? []) {
      if (!within.has(successor) || cameFrom.has(successor)) continue;
      cameFrom.set(successor, node);
      queue.push(successor);
    }
  }
  const path = [to];
  for (let node = cameFrom.get(to); node !== undefined; node = cameFrom.get(node)) path.unshift(node);
  return path;
}

/**
 * The circles of a graph, grouped by strongly connected component. A component can hold exponentially
 * many circles, so each group lists, for every import inside it, the shortest circle through that
 * import (duplicates dropped): every import a maintainer could cut shows up in at least one line.
 * Each circle starts and ends at the same file, rotated to start at its alphabetically first file.
 */
export function findCircles(graph: ImportGraph): { files: string[]; circles: string[][] }[] {
  const groups: { files: string[]; circles: string[][] }[] = [];
  for (const files of stronglyConnectedComponents(graph)) {
    const within = new Set(files);
    const circles = new Map<string, string[]>();
    for (const from of files) {
      for (const to of graph.get(from) ?? []) {
        if (!within.has(to)) continue; // covers a file importing itself: a component of one
        const loop = [from, ...shortestPath(graph, to, from, within)].slice(0, -1);
        const first = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(first), ...loop.slice(0, first)];
        circles.set(rotated.join('\n'), [...rotated, rotated[0]!]);
      }
    }
    if (circles.size > 0) groups.push({ files, circles: [...circles.values()].sort((a, b) => a.join().localeCompare(b.join())) });
  }
  return groups.sort((a, b) => a.files[0]!.localeCompare(b.files[0]!));
}

/** A readable failure message for `findCircles`' result, empty when there are no circles. */
export function describeCircles(groups: { files: string[]; circles: string[][] }[]): string {
  if (groups.length === 0) return '';
  const lines = [`${groups.length} group(s) of files import each other in a circle; each line is one circle, cut one import in it:`];
  groups.forEach(({ files, circles }, n) => {
    lines.push(`group ${n + 1} (${files.length} files):`);
    for (const circle of circles) lines.push(`  ${circle.join(' -> ')}`);
  });
  return lines.join('\n');
}

/** The top-level folder of `src` a file sits in (`src/raft/log.ts` -> `raft`); `''` for files outside one. */
export function topFolder(file: string, directory = 'src'): string {
  const parts = file.split('/');
  return parts[0] === directory && parts.length > 2 ? parts[1]! : '';
}

/**
 * Imports that cross from one top-level folder into another the table does not allow, as
 * `file -> imported file (rule)`. Imports within a folder are always allowed; a folder missing from
 * the table is itself a violation, so a new folder has to be given a place in the layering.
 */
export function layerViolations(graph: ImportGraph, allowed: Record<string, readonly string[]>, directory = 'src'): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    const from = topFolder(file, directory);
    for (const target of targets) {
      const to = topFolder(target, directory);
      if (to === from && from !== '') continue;
      const permitted = allowed[from];
      if (permitted === undefined) violations.push(`${file} -> ${target} (${from === '' ? 'file' : `folder ${directory}/${from}`} has no row in the table)`);
      else if (!permitted.includes(to))
        violations.push(`${file} -> ${target} (${directory}/${from} may import only ${permitted.length === 0 ? 'itself' : permitted.join(', ')})`);
    }
  }
  return violations;
}

/** The import chains from any file under `fromFolder` to a file under one of `forbidden`, each `a -> b -> ... -> z`. */
export function forbiddenReach(graph: ImportGraph, fromFolder: string, forbidden: readonly string[], directory = 'src'): string[] {
  const starts = [...graph.keys()].filter((file) => topFolder(file, directory) === fromFolder);
  // Breadth-first from all starts at once, never through a forbidden file: each chain ends at the first forbidden file it meets.
  const cameFrom = new Map<string, string | undefined>(starts.map((file) => [file, undefined]));
  const queue = [...starts];
  const chains: string[] = [];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const target of graph.get(node) ?? []) {
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, node);
      if (!forbidden.includes(topFolder(target, directory))) {
        queue.push(target);
        continue;
      }
      const chain = [target];
      for (let step = cameFrom.get(target); step !== undefined; step = cameFrom.get(step)) chain.unshift(step);
      chains.push(chain.join(' -> '));
    }
  }
  return chains.sort();
}
