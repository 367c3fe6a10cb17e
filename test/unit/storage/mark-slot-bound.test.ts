import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNodeId, NODE_LIMITS } from '../../../src/shared/index.ts';
import type { AckedMark } from '../../../src/storage/acked-mark.ts';
import { MarkFile } from '../../../src/storage/mark-file.ts';

// The acknowledged mark lives in a fixed 512-byte slot, and its vote is whatever id a peer asked a
// vote for. Any id a peer can get past the frame checks must fit, with every number at its largest,
// or a forged vote request leaves a node that cannot write its mark, nor start again.
const LARGEST = Number.MAX_SAFE_INTEGER;
const worstPosition = { index: LARGEST, term: LARGEST };

function worstMark(id: string, vote: string): AckedMark {
  return { id, term: LARGEST, vote, previous: worstPosition, current: worstPosition, recoverTo: worstPosition };
}

describe('the acknowledged mark slot', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'quorumq-mark-slot-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('holds a mark whose ids are as long as node ids may be and whose numbers are the largest safe integers', async () => {
    const longest = 'z'.repeat(NODE_LIMITS.idLengthMax);
    expect(isNodeId(longest)).toBe(true);
    const { file } = await MarkFile.open(join(directory, 'mark'));
    await file.write(worstMark(longest, longest));
    await file.close();
    const reopened = await MarkFile.open(join(directory, 'mark'));
    expect(reopened.contents.mark).toEqual(worstMark(longest, longest));
    await reopened.file.close();
  });

  it('refuses as node ids what would not fit: longer ones, and characters that take more than a byte', () => {
    expect(isNodeId('z'.repeat(NODE_LIMITS.idLengthMax + 1))).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), (candidate) => {
        if (isNodeId(candidate)) expect(Buffer.byteLength(JSON.stringify(candidate))).toBeLessThanOrEqual(NODE_LIMITS.idLengthMax + 2);
      }),
      { seed: 20261207, numRuns: 2000 },
    );
    expect(isNodeId('é'.repeat(10))).toBe(false);
    expect(isNodeId('"'.repeat(10))).toBe(false);
  });
});
