/**
 * Redis 7.0 error texts used by the key and string commands, byte for byte.
 * They belong with the others in protocol/errors.ts (Errors); they live here only
 * because that module is owned by another part of the code base for now.
 */
import { RespError } from '../protocol/errors';

export const KeyErrors = {
  invalidCursor: () => new RespError('ERR invalid cursor'),
  noSuchKey: () => new RespError('ERR no such key'),
  sameObject: () => new RespError('ERR source and destination objects are the same'),
  unsupportedOption: (opt: Buffer) =>
    // addReplyErrorFormat turns CR/LF into spaces so the reply stays one line.
    new RespError(`ERR Unsupported option ${opt.toString('latin1').replace(/[\r\n]/g, ' ')}`),
  nxWithOthers: () => new RespError('ERR NX and XX, GT or LT options at the same time are not compatible'),
  gtAndLt: () => new RespError('ERR GT and LT options at the same time are not compatible'),
  /** getIntFromObjectOrReply on a 64-bit integer outside int's range. */
  intRange: () => new RespError('ERR value is out of range, value must between -2147483648 and 2147483647'),
  overflow: () => new RespError('ERR increment or decrement would overflow'),
  decrementOverflow: () => new RespError('ERR decrement would overflow'),
  nanOrInfinity: () => new RespError('ERR increment would produce NaN or Infinity'),
  offsetOutOfRange: () => new RespError('ERR offset is out of range'),
  stringTooLong: () => new RespError('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
} as const;

/** proto-max-bulk-len's default: the largest string Redis builds (512 MB). */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

/** Redis's checkStringLength: would `size + append` bytes exceed proto-max-bulk-len? */
export function checkStringLength(size: bigint | number, append: number): void {
  if (BigInt(size) + BigInt(append) > BigInt(PROTO_MAX_BULK_LEN)) throw KeyErrors.stringTooLong();
}
