/** String size limit shared by the string commands (Redis's checkStringLength). */
import { Errors } from '../protocol/errors';

/** proto-max-bulk-len's default: the largest string Redis builds (512 MB). */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

/** Redis's checkStringLength: would `size + append` bytes exceed proto-max-bulk-len? */
export function checkStringLength(size: bigint | number, append: number): void {
  if (BigInt(size) + BigInt(append) > BigInt(PROTO_MAX_BULK_LEN)) throw Errors.stringTooLong();
}
