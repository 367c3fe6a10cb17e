export { assert, unreachable, AssertionError } from './assert.ts';
export { Prng } from './prng.ts';
export { ClusterError, type ClusterErrorOptions } from './errors.ts';
export { RequestError } from './request-error.ts';
export * from './client-protocol.ts';
export { parseReceipt, receiptOf } from './receipts.ts';
export { sortNumbersInPlace } from './sort-numbers.ts';
