import { fileURLToPath } from 'node:url';
import { assert, describe, expect, it } from 'vitest';
import { buildImportGraph, describeCircles, findCircles, forbiddenReach, layerViolations } from '../../support/import-graph.ts';

// Guards on the module structure of src: no import circles, and the layers only import downwards.
// `import type` edges count like any other: a type-only circle erases at runtime, but a reader still
// cannot understand one file without the other, and it turns into a runtime circle the day someone
// imports a value along the same edge.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const { graph, unresolved } = buildImportGraph(root, 'src');

/**
 * Which other top-level folders of src each folder may import (imports within a folder are always
 * allowed). The cores at the bottom are strict by design, not by measurement: shared imports nothing,
 * raft, gossip and queue import only shared; do not widen those rows to make a test pass, move the
 * code instead. The middle rows are today's imports, so a new dependency between layers is a
 * decision someone makes here. The top two may use anything beneath them.
 */
const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  raft: ['shared'],
  gossip: ['shared'],
  queue: ['shared'],
  storage: ['shared', 'raft'],
  transport: ['shared', 'raft', 'gossip'],
  // Today for transport/write-coalescing.ts alone, a leaf; the SDK test below checks nothing node-side comes along.
  client: ['shared', 'transport'],
  server: ['shared', 'raft', 'gossip', 'queue', 'storage', 'transport'],
  cli: ['shared', 'raft', 'gossip', 'queue', 'storage', 'transport', 'client', 'server'],
};

// The SDK ships to applications: whatever it imports, directly or through another folder, they load.
const SDK_MUST_NOT_REACH = ['server', 'storage', 'raft'];

describe('module structure of src', () => {
  it('every relative import names a file (a missing edge could hide a circle)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(unresolved).toEqual([]);
  });

  it('has no import circle, type-only imports included', () => {
    const report = describeCircles(findCircles(graph));
    if (report !== '') assert.fail(report);
  });

  it('imports only downwards: each top-level folder imports only the folders its row allows', () => {
    const violations = layerViolations(graph, ALLOWED);
    if (violations.length > 0) assert.fail(`imports the layering does not allow (file -> imported file):\n  ${violations.join('\n  ')}`);
  });

  it('the client SDK reaches no server, storage or raft file, not even through another folder', () => {
    for (const folder of SDK_MUST_NOT_REACH) expect(ALLOWED.client).not.toContain(folder);
    const chains = forbiddenReach(graph, 'client', SDK_MUST_NOT_REACH);
    if (chains.length > 0) assert.fail(`the client SDK pulls in node code:\n  ${chains.join('\n  ')}`);
  });

  it('the layer table itself has no circle, so the folders form a stack', () => {
    expect(findCircles(new Map(Object.entries(ALLOWED).map(([folder, below]) => [folder, [...below]])))).toEqual([]);
  });
});
