import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LogPosition } from '../raft/index.ts';
import { assert } from '../shared/index.ts';
import type { AckedMark } from './acked-mark.ts';
import { CHECKSUM_BYTES, checksumOf } from './checksum.ts';
import type { PowerCut } from './power-cut.ts';
import { syncDirectory } from './sync-directory.ts';

/** The file's name in the data directory, beside LevelDB's own files (which LevelDB leaves alone). */
export const MARK_FILE_NAME = 'acked-mark';

const SLOT_BYTES = 512;
const LENGTH_BYTES = 2;

/**
 * The mark is opened O_DSYNC where the platform has it: each slot write is then durable when it
 * returns, one system call instead of a write and an fdatasync (each a trip through the thread
 * pool, once per ready batch). Elsewhere, the write is followed by a datasync.
 */
const WRITE_THROUGH = constants.O_DSYNC ?? 0;

/** What was found in the file at open. */
export interface MarkFileContents {
  /** The newest slot that passes its checksum; undefined for a new file, or one with no sound slot. */
  readonly mark: AckedMark | undefined;
  /** The file held bytes but no sound slot: the mark is lost, and with it the cross-check. */
  readonly damaged: boolean;
  /** One slot failed its checksum or is missing although written (a torn write, or damage); the other was used. */
  readonly slotDamaged: boolean;
}

/**
 * The acknowledged mark on disk: a small file of its own, outside LevelDB, so that damage to one
 * is caught by the other. Two fixed slots are written in turn, each with a sequence number and a
 * checksum, so a write torn by a crash leaves the previous mark whole. Every write is fsynced;
 * writes must not overlap (the storage writes one ready at a time).
 */
export class MarkFile {
  /** A write is under way: the next must wait for it (two could share a slot). */
  private writing = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private sequence: number,
    private newFile: boolean,
    /** What each slot holds on disk, for a simulated power cut to restore. */
    private readonly slots: Uint8Array,
    private readonly powerCut: PowerCut | undefined,
  ) {}

  static async open(path: string, powerCut?: PowerCut): Promise<{ file: MarkFile; contents: MarkFileContents }> {
    let handle: FileHandle;
    let newFile = false;
    try {
      handle = await open(path, constants.O_RDWR | WRITE_THROUGH);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | WRITE_THROUGH);
      newFile = true;
    }
    const bytes = new Uint8Array(SLOT_BYTES * 2);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    const halves = [bytes.subarray(0, SLOT_BYTES), bytes.subarray(SLOT_BYTES)];
    const read = halves.map((half) => readSlot(half));
    const slots = read.filter((slot) => slot !== undefined);
    const newest = slots.sort((a, b) => b.sequence - a.sequence)[0];
    const file = new MarkFile(handle, path, newest?.sequence ?? 0, newFile, bytes, powerCut);
    const holdsBytes = (half: Uint8Array) => half.some((byte) => byte !== 0);
    const damaged = newest === undefined && bytes.subarray(0, bytesRead).some((byte) => byte !== 0);
    // Both slots were written once the sequence passed 1: a second one that does not read is damage.
    const slotDamaged = slots.length === 1 && (newest!.sequence >= 2 || halves.some((half, index) => read[index] === undefined && holdsBytes(half)));
    return { file, contents: { mark: newest?.mark, damaged, slotDamaged } };
  }

  async write(mark: AckedMark): Promise<void> {
    assert(!this.writing, 'acknowledged mark writes must not overlap');
    this.sequence++;
    const slot = encodeSlot(this.sequence, mark);
    const offset = (this.sequence % 2) * SLOT_BYTES;
    // The slot not written holds the newest mark before this one: a torn write must leave it whole.
    assert(offset === 0 || offset === SLOT_BYTES, 'the mark is written to one of its two slots');
    const write = () => this.writeSlot(slot, offset);
    this.writing = true;
    try {
      if (this.powerCut === undefined) await write();
      else await this.powerCut.writeMark(this.path, offset, this.slots.subarray(offset, offset + SLOT_BYTES), write);
    } finally {
      this.writing = false;
    }
    this.slots.set(slot, offset);
  }

  private async writeSlot(slot: Uint8Array, offset: number): Promise<void> {
    await this.handle.write(slot, 0, slot.length, offset);
    if (WRITE_THROUGH === 0) await this.handle.datasync();
    // A file just created exists for good only once its directory entry is synced too.
    if (this.newFile) {
      this.newFile = false;
      await syncDirectory(dirname(this.path));
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

const UTF8 = new TextEncoder();

/** Encodes straight into the slot: this runs beside every synced write of the log. */
function encodeSlot(sequence: number, mark: AckedMark): Uint8Array {
  const slot = new Uint8Array(SLOT_BYTES);
  const room = slot.subarray(LENGTH_BYTES, SLOT_BYTES - CHECKSUM_BYTES);
  const json = JSON.stringify({ sequence, mark });
  const { read, written } = UTF8.encodeInto(json, room);
  assert(read === json.length, 'acknowledged mark too large for its slot');
  new DataView(slot.buffer).setUint16(0, written);
  slot.set(checksumOf(room.subarray(0, written)), LENGTH_BYTES + written);
  return slot;
}

function readSlot(slot: Uint8Array): { sequence: number; mark: AckedMark } | undefined {
  if (slot.length < SLOT_BYTES) return undefined;
  const length = new DataView(slot.buffer, slot.byteOffset, slot.byteLength).getUint16(0);
  if (length === 0 || length > SLOT_BYTES - LENGTH_BYTES - CHECKSUM_BYTES) return undefined;
  const body = slot.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
  const stored = slot.subarray(LENGTH_BYTES + length, LENGTH_BYTES + length + CHECKSUM_BYTES);
  if (!Buffer.from(checksumOf(body)).equals(Buffer.from(stored))) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { sequence: unknown; mark: unknown };
    // The sequence picks the slot the next write goes to: anything but a count from 1 is damage.
    return typeof parsed.sequence === 'number' && Number.isSafeInteger(parsed.sequence) && parsed.sequence >= 1 && isMark(parsed.mark)
      ? { sequence: parsed.sequence, mark: parsed.mark }
      : undefined;
  } catch {
    return undefined;
  }
}

/** A checksum can pass on bytes some older version wrote: check the shape as well. */
function isMark(value: unknown): value is AckedMark {
  const mark = value as Partial<AckedMark> | null;
  return (
    typeof mark === 'object' &&
    mark !== null &&
    typeof mark.id === 'string' &&
    mark.id !== '' &&
    typeof mark.term === 'number' &&
    typeof mark.vote === 'string' &&
    isPosition(mark.previous) &&
    isPosition(mark.current) &&
    (mark.recoverTo === undefined || isPosition(mark.recoverTo))
  );
}

function isPosition(value: unknown): value is LogPosition {
  const position = value as Partial<LogPosition> | null;
  return typeof position === 'object' && position !== null && Number.isSafeInteger(position.index) && Number.isSafeInteger(position.term);
}
