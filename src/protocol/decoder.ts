import { Errors, RespError } from './errors';
import { DEFAULT_LIMITS as SETTING_DEFAULTS } from '../settings';

/**
 * Request decoder: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands
 * (`PING\r\n` typed into telnet), following Redis's networking.c: the same limits, the
 * same protocol error texts, and no nested types inside a request.
 *
 * Why not redis-parser here: it is a reply parser. It accepts nested arrays and any
 * type byte in a request, buffers bulk strings of any size and has no inline mode, so
 * Redis's protocol errors and limits could not be enforced before memory is spent.
 * redis-parser is used where it fits: parsing replies in the test harness.
 */

export interface DecoderLimits {
  /** proto-max-bulk-len */
  maxBulkLength: number;
  /** Largest number of arguments in one request (Redis: INT_MAX). */
  maxMultibulkLength: number;
  /** Redis's limits for a client that has not authenticated yet (when a password is set). */
  unauthenticatedMaxArgs: number;
  unauthenticatedMaxBulkLength: number;
}

export const DEFAULT_LIMITS: DecoderLimits = {
  maxBulkLength: SETTING_DEFAULTS.protoMaxBulkLen,
  maxMultibulkLength: 2147483647,
  unauthenticatedMaxArgs: 10,
  unauthenticatedMaxBulkLength: 16384,
};

/** PROTO_INLINE_MAX_SIZE: longest inline request or count line. */
const INLINE_MAX = 64 * 1024;
const CR = 13;
const LF = 10;

export class RequestDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Arguments still expected in the multibulk being read; 0 when between requests. */
  private remaining = 0;
  private args: Buffer[] = [];
  /** Length of the bulk being read, -1 while waiting for its `$` header. */
  private bulkLength = -1;
  private failed = false;
  /** Chunks of a bulk that has not fully arrived, joined once it has (not once per chunk). */
  private parts: Buffer[] = [];
  private partsLength = 0;

  constructor(
    private readonly onCommand: (argv: Buffer[]) => void,
    private readonly onError: (error: RespError) => void,
    private readonly limits: DecoderLimits = DEFAULT_LIMITS,
    private readonly isAuthenticated: () => boolean = () => true,
  ) {}

  /** Bytes received but not yet consumed (client-query-buffer-limit applies to this). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.partsLength;
  }

  feed(chunk: Buffer): void {
    if (this.failed) return;
    // Joining the unconsumed bytes with every chunk would copy a large bulk once per chunk
    // (quadratic: minutes of CPU for a 100 MB value): wait until all of it is here.
    if (this.remaining > 0 && this.bulkLength >= 0 && this.pendingBytes + chunk.length < this.bulkLength + 2) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      return;
    }
    const rest = this.buf.subarray(this.pos);
    this.buf = rest.length || this.parts.length ? Buffer.concat([rest, ...this.parts, chunk]) : chunk;
    this.parts = [];
    this.partsLength = 0;
    this.pos = 0;
    try {
      while (this.pos < this.buf.length && !this.failed) {
        const progressed = this.remaining > 0 ? this.readBulks() : this.readRequestStart();
        if (!progressed) break;
      }
    } catch (err) {
      this.failed = true;
      this.onError(err instanceof RespError ? err : Errors.protocol(String(err)));
    }
  }

  /** Stop delivering commands (after a fatal error or when the connection closes). */
  stop(): void {
    this.failed = true;
  }

  private readRequestStart(): boolean {
    if (this.buf[this.pos] === 0x2a /* '*' */) return this.readMultibulkHeader();
    return this.readInline();
  }

  private readInline(): boolean {
    const newline = this.buf.indexOf(LF, this.pos);
    if (newline === -1) {
      if (this.buf.length - this.pos > INLINE_MAX) throw Errors.protocol('too big inline request');
      return false;
    }
    let end = newline;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = this.buf.subarray(this.pos, end);
    this.pos = newline + 1;
    const argv = splitInlineArgs(line);
    if (argv === null) throw Errors.protocol('unbalanced quotes in request');
    if (argv.length > 0) this.onCommand(argv);
    return true;
  }

  /** Reads `<prefix><integer>\r\n` at pos; null when the line is not complete yet. */
  private readCountLine(tooBig: string): number | null {
    const cr = this.buf.indexOf(CR, this.pos);
    if (cr === -1) {
      if (this.buf.length - this.pos > INLINE_MAX) throw Errors.protocol(tooBig);
      return null;
    }
    if (cr + 1 >= this.buf.length) return null; // wait for the \n
    const value = parseStrictInteger(this.buf, this.pos + 1, cr);
    this.pos = cr + 2;
    return value;
  }

  private readMultibulkHeader(): boolean {
    const count = this.readCountLine('too big mbulk count string');
    if (count === null) return false;
    if (Number.isNaN(count) || count > this.limits.maxMultibulkLength) {
      throw Errors.protocol('invalid multibulk length');
    }
    if (count > this.limits.unauthenticatedMaxArgs && !this.isAuthenticated()) {
      throw Errors.protocol('unauthenticated multibulk length');
    }
    if (count <= 0) return true; // "*0\r\n" and "*-1\r\n" are empty requests, skipped
    this.remaining = count;
    this.args = [];
    this.bulkLength = -1;
    return true;
  }

  private readBulks(): boolean {
    while (this.remaining > 0) {
      if (this.bulkLength === -1) {
        if (this.pos >= this.buf.length) return false;
        const type = this.buf[this.pos];
        if (type !== 0x24 /* '$' */) {
          // Redis checks the header line is complete before looking at the type byte.
          if (this.buf.indexOf(CR, this.pos) === -1) {
            if (this.buf.length - this.pos > INLINE_MAX) throw Errors.protocol('too big bulk count string');
            return false;
          }
          throw Errors.protocol(`expected '$', got '${String.fromCharCode(type)}'`);
        }
        const length = this.readCountLine('too big bulk count string');
        if (length === null) return false;
        if (Number.isNaN(length) || length < 0 || length > this.limits.maxBulkLength) {
          throw Errors.protocol('invalid bulk length');
        }
        if (length > this.limits.unauthenticatedMaxBulkLength && !this.isAuthenticated()) {
          throw Errors.protocol('unauthenticated bulk length');
        }
        this.bulkLength = length;
      }
      if (this.buf.length - this.pos < this.bulkLength + 2) return false;
      this.args.push(this.buf.subarray(this.pos, this.pos + this.bulkLength));
      this.pos += this.bulkLength + 2;
      this.bulkLength = -1;
      this.remaining--;
    }
    const argv = this.args;
    this.args = [];
    this.onCommand(argv);
    return true;
  }
}

/** Redis's string2ll: optional '-', digits, no '+', no spaces, no leading zeros; NaN if invalid. */
function parseStrictInteger(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 20) return NaN;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
    if (i === end) return NaN;
  }
  if (buf[i] === 0x30 && end - i > 1) return NaN;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return negative ? -value : value;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Redis's sdssplitargs: quotes, escapes (\n \r \t \b \a \xHH); null on unbalanced quotes. */
export function splitInlineArgs(line: Buffer): Buffer[] | null {
  const out: Buffer[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const bytes: number[] = [];
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      if (inDouble) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 3 < n && line[i + 1] === 0x78 && hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          bytes.push(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 3;
        } else if (c === 0x5c && i + 1 < n) {
          i++;
          const e = line[i];
          bytes.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else bytes.push(c);
        i++;
      } else if (inSingle) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 1 < n && line[i + 1] === 0x27) {
          bytes.push(0x27);
          i += 2;
          continue;
        } else if (c === 0x27) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else bytes.push(c);
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === 0x22) inDouble = true;
        else if (c === 0x27) inSingle = true;
        else bytes.push(c);
        i++;
      }
    }
    out.push(Buffer.from(bytes));
  }
}
