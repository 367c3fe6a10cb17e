import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

/** What a power cut left to undo, in the data directory until the next start applies it. */
export const POWER_CUT_FILE = 'power-cut-undo';

export type LevelOperation = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** The LevelDB calls a journaled write needs. */
export interface LevelAccess {
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  batch(operations: LevelOperation[], options: { sync: boolean }): Promise<void>;
}

/** A write that a power cut now would lose: what its keys (or the mark slot) held before it. */
interface UncoveredLevelWrite {
  readonly priors: readonly (readonly [Uint8Array, Uint8Array | undefined])[];
  completed: boolean;
}

interface UncoveredMarkWrite {
  readonly path: string;
  readonly offset: number;
  readonly before: Uint8Array;
}

/** The undo file: LevelDB keys to restore (absent = delete) and mark-file bytes, in the order to apply. */
interface UndoRecord {
  readonly level: readonly { readonly key: string; readonly value: string | null }[];
  readonly marks: readonly { readonly path: string; readonly offset: number; readonly bytes: string }[];
}

/**
 * Power loss for tests (RELIABILITY #11, #13), without a special file system: every write goes
 * through here, which remembers what each write overwrote until the write is covered by a
 * completed fsync (for LevelDB, a completed synced batch covers every write completed before it;
 * for the mark file, its own datasync). On `cut()` the record of every uncovered write is saved and
 * the process kills itself; the next start restores what those writes overwrote, as if the power
 * had gone before they reached the platter. Only a node started with --test-power-loss pays for it:
 * writes are serialized and each costs a read of the keys it touches.
 */
export class PowerCut {
  private level: UncoveredLevelWrite[] = [];
  private readonly marks = new Set<UncoveredMarkWrite>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly directory: string,
    private readonly die: () => void = killSelf,
  ) {}

  /** Writes not yet covered by an fsync: what a cut now would undo. */
  get uncovered(): number {
    return this.level.length + this.marks.size;
  }

  writeLevel(db: LevelAccess, operations: LevelOperation[], sync: boolean): Promise<void> {
    // One at a time, so that each write's priors are what the writes before it left.
    const run = this.chain.then(() => this.journaledLevelWrite(db, operations, sync));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async writeMark(path: string, offset: number, before: Uint8Array, write: () => Promise<void>): Promise<void> {
    const record = { path, offset, before: new Uint8Array(before) };
    this.marks.add(record);
    await write();
    this.marks.delete(record);
  }

  /** The power goes now: synchronously, so no callback runs in between, then a SIGKILL. */
  cut(): void {
    const undo: UndoRecord = {
      level: [...this.level]
        .reverse()
        .flatMap((write) => write.priors.map(([key, value]) => ({ key: base64(key), value: value === undefined ? null : base64(value) }))),
      marks: [...this.marks].reverse().map((mark) => ({ path: mark.path, offset: mark.offset, bytes: base64(mark.before) })),
    };
    const temporary = join(this.directory, `${POWER_CUT_FILE}.tmp`);
    writeFileSync(temporary, JSON.stringify(undo));
    syncPath(temporary);
    renameSync(temporary, join(this.directory, POWER_CUT_FILE));
    syncPath(this.directory);
    this.die();
  }

  private async journaledLevelWrite(db: LevelAccess, operations: LevelOperation[], sync: boolean): Promise<void> {
    const keys = operations.map((operation) => operation.key);
    const values = await db.getMany(keys);
    const write: UncoveredLevelWrite = { priors: keys.map((key, i) => [key, values[i]] as const), completed: false };
    this.level.push(write);
    await db.batch(operations, { sync });
    write.completed = true;
    if (sync) this.level = this.level.filter((pending) => !pending.completed);
  }
}

/**
 * Applies what a power cut left to undo, before anything reads the directory. Returns what was
 * done, for the log, or undefined when there was no cut to undo.
 */
export async function undoPowerCut(directory: string): Promise<string | undefined> {
  const path = join(directory, POWER_CUT_FILE);
  let undo: UndoRecord;
  try {
    undo = JSON.parse(await readFile(path, 'utf8')) as UndoRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (undo.level.length > 0) {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { keyEncoding: 'view', valueEncoding: 'view' });
    const operations: LevelOperation[] = undo.level.map(({ key, value }) =>
      value === null ? { type: 'del', key: bytesOf(key) } : { type: 'put', key: bytesOf(key), value: bytesOf(value) },
    );
    await db.batch(operations, { sync: true });
    await db.close();
  }
  for (const mark of undo.marks) {
    const handle = await open(mark.path, 'r+');
    const bytes = bytesOf(mark.bytes);
    await handle.write(bytes, 0, bytes.length, mark.offset);
    await handle.datasync();
    await handle.close();
  }
  await rm(path);
  syncPath(directory);
  return `simulated power cut: ${undo.level.length} LevelDB keys and ${undo.marks.length} mark writes not covered by an fsync were undone`;
}

function killSelf(): void {
  process.kill(process.pid, 'SIGKILL');
}

function syncPath(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function bytesOf(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
