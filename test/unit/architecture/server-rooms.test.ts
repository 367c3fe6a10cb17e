import { fileURLToPath } from 'node:url';
import { assert, describe, expect, it } from 'vitest';
import { buildImportGraph, findCircles } from '../../support/import-graph.ts';

// src/server is cut into rooms, one idea each (README, "Layout"). A room's index.ts is its public
// face: another room imports from it and from nothing else of the room, so what a room keeps to
// itself can change without touching its neighbours. Rooms import only downwards, by this table.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const { graph } = buildImportGraph(root, 'src');

const ROOMS: Record<string, readonly string[]> = {
  node: ['api', 'subscriptions', 'requests', 'replication', 'membership', 'clocks', 'access'],
  api: ['subscriptions', 'requests', 'clocks', 'access'],
  subscriptions: ['requests'],
  requests: ['membership'],
  replication: [],
  membership: [],
  clocks: [],
  access: [],
};

const SERVER = 'src/server/';

function roomOf(file: string): string | undefined {
  if (!file.startsWith(SERVER)) return undefined;
  const rest = file.slice(SERVER.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? undefined : rest.slice(0, slash);
}

describe('the rooms of src/server', () => {
  const serverFiles = [...graph.keys()].filter((file) => file.startsWith(SERVER));

  it('every file of src/server lives in a room the table names (the top index.ts aside)', () => {
    expect(serverFiles.length).toBeGreaterThan(40);
    const homeless = serverFiles.filter((file) => file !== `${SERVER}index.ts` && !(roomOf(file)! in ROOMS));
    expect(homeless).toEqual([]);
  });

  it('rooms import one another only through index.ts, and only downwards', () => {
    const violations: string[] = [];
    for (const file of serverFiles) {
      const room = roomOf(file);
      if (room === undefined) continue;
      for (const imported of graph.get(file) ?? []) {
        const target = roomOf(imported);
        if (target === undefined || target === room) continue;
        if (!ROOMS[room]!.includes(target)) violations.push(`${file} -> ${imported} (${room} may not import ${target})`);
        else if (imported !== `${SERVER}${target}/index.ts`) violations.push(`${file} -> ${imported} (import ${target}/index.ts instead)`);
      }
    }
    if (violations.length > 0) assert.fail(`imports across rooms the layout does not allow:\n  ${violations.join('\n  ')}`);
  });

  it('the room table itself has no circle', () => {
    expect(findCircles(new Map(Object.entries(ROOMS).map(([room, below]) => [room, [...below]])))).toEqual([]);
  });
});
