/** String size limit shared by the string commands (Redis's checkStringLength). */
import { Errors } from '../protocol/errors';

/** Redis's checkStringLength: would `size + append` bytes exceed proto-max-bulk-len (`limit`)? */
export function checkStringLength(size: bigint | number, append: number, limit: number): void {
  if (BigInt(size) + BigInt(append) > BigInt(limit)) throw Errors.stringTooLong();
}
