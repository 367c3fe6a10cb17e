/**
 * A `ws` client option that sends frames with an all-zero mask, which `ws` then neither applies when
 * sending nor undoes when receiving (a copy and an XOR over every byte, on both ends). Masking
 * exists so that a browser page cannot smuggle bytes a proxy would misread; these clients are Node
 * processes speaking to quorumq nodes directly, so the mask protects nothing and costs CPU on every
 * frame.
 */
export function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}
