import { RespError } from './errors';
import type { Reply } from './reply';

export type ProtocolVersion = 2 | 3;

const CRLF = '\r\n';
const NULL_BULK_2 = Buffer.from('$-1\r\n');
const NULL_ARRAY_2 = Buffer.from('*-1\r\n');
const NULL_3 = Buffer.from('_\r\n');
const OK_BUF = Buffer.from('+OK\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');

/** Redis prints doubles with %.17g; inf/-inf/nan as RESP3 spells them. */
export function formatDouble(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Number.isNaN(value)) return 'nan';
  return String(value);
}

/** Error texts must be one line: Redis replaces CR/LF with spaces. */
function errorLine(err: RespError): string {
  return err.message.replace(/[\r\n]/g, ' ');
}

/**
 * Encodes replies into a list of chunks (no intermediate concatenation of payloads,
 * so large values are written without copying).
 */
export class ReplyWriter {
  readonly chunks: Buffer[] = [];
  private head = '';
  size = 0;

  constructor(public protocol: ProtocolVersion) {}

  private text(s: string): void {
    this.head += s;
  }
  private flushHead(): void {
    if (this.head) {
      const b = Buffer.from(this.head, 'utf8');
      this.chunks.push(b);
      this.size += b.length;
      this.head = '';
    }
  }
  private raw(buf: Buffer): void {
    this.flushHead();
    this.chunks.push(buf);
    this.size += buf.length;
  }

  write(reply: Reply): void {
    const resp3 = this.protocol === 3;
    if (reply === null) {
      this.raw(resp3 ? NULL_3 : NULL_BULK_2);
    } else if (Buffer.isBuffer(reply)) {
      this.text(`$${reply.length}${CRLF}`);
      this.raw(reply);
      this.text(CRLF);
    } else if (typeof reply === 'number' || typeof reply === 'bigint') {
      this.text(`:${reply}${CRLF}`);
    } else if (reply instanceof RespError) {
      this.text(`-${errorLine(reply)}${CRLF}`);
    } else if (Array.isArray(reply)) {
      if (reply.length === 0) return this.raw(EMPTY_ARRAY);
      this.text(`*${reply.length}${CRLF}`);
      for (const item of reply) this.write(item);
    } else {
      switch (reply.kind) {
        case 'none':
          break;
        case 'simple':
          if (reply.value === 'OK') this.raw(OK_BUF);
          else this.text(`+${reply.value}${CRLF}`);
          break;
        case 'nullArray':
          this.raw(resp3 ? NULL_3 : NULL_ARRAY_2);
          break;
        case 'map':
          this.text(resp3 ? `%${reply.entries.length}${CRLF}` : `*${reply.entries.length * 2}${CRLF}`);
          for (const [k, v] of reply.entries) {
            this.write(k);
            this.write(v);
          }
          break;
        case 'bool':
          this.text(resp3 ? (reply.value ? `#t${CRLF}` : `#f${CRLF}`) : reply.value ? `:1${CRLF}` : `:0${CRLF}`);
          break;
        case 'push':
          this.text(`${resp3 ? '>' : '*'}${reply.items.length}${CRLF}`);
          for (const item of reply.items) this.write(item);
          break;
        case 'replies':
          for (const item of reply.replies) this.write(item);
          break;
        case 'set':
          this.text(`${resp3 ? '~' : '*'}${reply.items.length}${CRLF}`);
          for (const item of reply.items) this.write(item);
          break;
        case 'double': {
          const text = formatDouble(reply.value);
          if (resp3) this.text(`,${text}${CRLF}`);
          else this.write(Buffer.from(text));
          break;
        }
        case 'verbatim': {
          const body = Buffer.from(reply.text, 'utf8');
          if (resp3) {
            this.text(`=${body.length + 4}${CRLF}${reply.format}:`);
            this.raw(body);
            this.text(CRLF);
          } else this.write(body);
          break;
        }
      }
    }
  }

  /** Takes everything encoded so far. */
  take(): Buffer[] {
    this.flushHead();
    const out = this.chunks.splice(0);
    this.size = 0;
    return out;
  }
}

/** Convenience for tests and one-off replies. */
export function encode(reply: Reply, protocol: ProtocolVersion = 2): Buffer {
  const w = new ReplyWriter(protocol);
  w.write(reply);
  return Buffer.concat(w.take());
}
