/**
 * A small RESP2 + RESP3 reply decoder and client, for differential tests that must see the
 * RESP3 types (map, set, double, null, boolean) that RawClient (redis-parser, RESP2 only)
 * cannot decode. Replies are decoded into plain JSON-comparable values:
 *
 *   simple string, bulk string, verbatim string -> string (UTF-8; verbatim without its "txt:")
 *   integer -> number (beyond 2^53: { big: '...' }, exact)   null bulk / null array / RESP3 null -> null
 *   error (simple or bulk) -> { error }     array -> array     push -> { push: [...] }
 *   map -> { map: [[k, v], ...] } in the order received      set -> { set: [...] }
 *   double -> { double: '1.5' }  boolean -> { bool: true }    big number -> { big: '123' }
 *
 * So in RESP2 `+OK` and `$2 OK` look the same (as with RawClient), but a RESP3 map is never
 * confused with a flat array, nor a set with an array, nor a double with a bulk string.
 */
import * as net from 'node:net';
import { encodeCommand } from './resp-client';

export type Value =
  | string
  | number
  | null
  | Value[]
  | { error: string }
  | { map: [Value, Value][] }
  | { set: Value[] }
  | { push: Value[] }
  | { double: string }
  | { bool: boolean }
  | { big: string };

/** Decodes the reply starting at `start`: its value and where it ends, or undefined if incomplete. */
export function decodeReply(buf: Buffer, start = 0): { value: Value; end: number } | undefined {
  if (start >= buf.length) return undefined;
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  const blob = (): { text: string; end: number } | null | undefined => {
    const len = Number(line);
    if (!Number.isInteger(len)) throw new Error(`malformed length ${JSON.stringify(line)}`);
    if (len < 0) return null;
    const end = next + len + 2;
    if (end > buf.length) return undefined;
    return { text: buf.toString('utf8', next, next + len), end };
  };
  const aggregate = (count: number): { items: Value[]; end: number } | undefined => {
    const items: Value[] = [];
    let pos = next;
    for (let i = 0; i < count; i++) {
      const item = decodeReply(buf, pos);
      if (!item) return undefined;
      items.push(item.value);
      pos = item.end;
    }
    return { items, end: pos };
  };
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':': {
      // Beyond 2^53 a number would round: such integers stay exact, as { big }.
      const n = Number(line);
      return { value: Number.isSafeInteger(n) ? n : { big: line }, end: next };
    }
    case '_':
      return { value: null, end: next };
    case ',':
      return { value: { double: line }, end: next };
    case '#':
      return { value: { bool: line === 't' }, end: next };
    case '(':
      return { value: { big: line }, end: next };
    case '$':
    case '!':
    case '=': {
      const b = blob();
      if (b === undefined) return undefined;
      if (b === null) return { value: null, end: next };
      if (type === '!') return { value: { error: b.text }, end: b.end };
      return { value: type === '=' ? b.text.slice(4) : b.text, end: b.end };
    }
    case '*':
    case '~':
    case '>': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const agg = aggregate(count);
      if (!agg) return undefined;
      const value: Value = type === '*' ? agg.items : type === '~' ? { set: agg.items } : { push: agg.items };
      return { value, end: agg.end };
    }
    case '%': {
      const count = Number(line);
      const agg = aggregate(count * 2);
      if (!agg) return undefined;
      const entries: [Value, Value][] = [];
      for (let i = 0; i < agg.items.length; i += 2) entries.push([agg.items[i], agg.items[i + 1]]);
      return { value: { map: entries }, end: agg.end };
    }
    default:
      throw new Error(
        `not a RESP reply: type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.subarray(start, start + 80).toString('latin1'))}`,
      );
  }
}

/** One connection, one command at a time (or a pipeline), RESP2 or RESP3 replies. */
export class Resp3Client {
  private inbox: Buffer = Buffer.alloc(0);
  private waiters: { resolve(v: Value): void; reject(e: Error): void }[] = [];
  private closed = false;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
      this.pump();
    });
    socket.on('error', (err) => (this.failure ??= err));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0))
        w.reject(new Error(`connection closed before a reply${this.failure ? `: ${this.failure.message}` : ''}`));
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Resp3Client> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Resp3Client(socket));
      });
    });
  }

  send(...argv: string[]): Promise<Value> {
    return this.pipeline([argv]).then((r) => r[0]);
  }

  /** Writes all commands at once and resolves with their replies in order. */
  pipeline(commands: string[][]): Promise<Value[]> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const replies = commands.map(() => new Promise<Value>((resolve, reject) => this.waiters.push({ resolve, reject })));
    this.socket.write(Buffer.concat(commands.map((argv) => encodeCommand(argv))));
    return Promise.all(replies);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private pump(): void {
    while (this.waiters.length) {
      let decoded: ReturnType<typeof decodeReply>;
      try {
        decoded = decodeReply(this.inbox);
      } catch (err) {
        for (const w of this.waiters.splice(0)) w.reject(err as Error);
        this.socket.destroy();
        return;
      }
      if (!decoded) return;
      this.inbox = this.inbox.subarray(decoded.end);
      this.waiters.shift()!.resolve(decoded.value);
    }
  }
}
