import { createHash } from 'node:crypto';

/** Bytes of the SHA-256 prefix that guards stored records (the mark's slots, snapshot records). */
export const CHECKSUM_BYTES = 16;

/** The checksum stored beside a record: enough to catch a torn write or a flipped bit, not an attacker. */
export function checksumOf(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest().subarray(0, CHECKSUM_BYTES);
}
