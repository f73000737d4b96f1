/**
 * respql's one RESP client: the ops subcommands (`ping`, `import`), the tests and the
 * benchmark all use it.
 *
 * Why not ioredis: it stays a devDependency (the test clients). A production dependency
 * would add ioredis and its ~10 transitive packages to every install and to the Docker
 * image, for two subcommands that need only "write commands, read replies in order".
 *
 * It does no reconnecting, no command rewriting, no HELLO/CLIENT SETNAME handshake and no
 * reply transformation: what a caller sends is what goes on the wire, and every received
 * byte is kept in one inbox that parsed reads (send/pipeline/command/readReply), frame
 * reads (readFrame) and raw reads (readRaw*) consume in order. So one test can mix "send a
 * command, check the parsed reply" with "send broken bytes, check the exact bytes that
 * come back", and the benchmark can wait for whole replies without decoding them.
 *
 * Replies are decoded with redis-parser (returnBuffers: true), which only understands
 * RESP2. For RESP3 (after HELLO 3), use the raw reads or rawExchange() and compare bytes.
 */
import * as net from 'node:net';
import RedisParser from 'redis-parser';

/** An error reply (`-ERR ...`), resolved as a value rather than a rejection. */
export interface ErrorReply {
  error: string;
}

/**
 * A decoded RESP2 reply. With returnBuffers, simple strings and bulk strings
 * both come back as Buffers (so `+OK` and `$2\r\nOK` look the same: use raw
 * reads where the difference matters); integers are numbers; null bulk and
 * null array are null.
 */
export type Reply = Buffer | number | null | ErrorReply | Reply[];

export function isErrorReply(reply: unknown): reply is ErrorReply {
  return typeof reply === 'object' && reply !== null && !Buffer.isBuffer(reply) && !Array.isArray(reply) && 'error' in reply;
}

/** Recursively turns Buffers into (UTF-8) strings, for readable deep-equal assertions. */
export function toStrings(reply: Reply): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) return reply.map(toStrings);
  return reply;
}

/** A reply as text for a message: an error's text, bytes as UTF-8, an array's items joined by commas (as String() joins them). */
export function replyText(reply: Reply): string {
  if (isErrorReply(reply)) return reply.error;
  if (Array.isArray(reply)) return reply.map(replyText).join(',');
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** A command argument: text is sent as UTF-8, a number as its decimal digits. */
export type Arg = string | Buffer | number;

/** Encodes a command as a RESP multibulk array, the way real clients send it. */
export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Shows bytes in an error message: escaped, and cut short if long. */
export function describeBytes(bytes: Buffer, max = 400): string {
  const shown = JSON.stringify(bytes.subarray(0, max).toString('latin1'));
  return bytes.length > max ? `${shown}... (${bytes.length} bytes)` : shown;
}

/**
 * Finds where the RESP2 reply starting at `start` ends, or returns undefined if
 * it has not fully arrived yet. We frame replies ourselves (instead of feeding
 * the socket stream straight into redis-parser) so that a parsed read consumes
 * exactly one reply's bytes and leaves everything after it in the inbox for
 * later raw reads: redis-parser would swallow and hide any trailing bytes.
 */
function frameEnd(buf: Buffer, start: number): number | undefined {
  if (start >= buf.length) return undefined;
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]);
  switch (type) {
    case '+':
    case '-':
    case ':':
      return lineEnd + 2;
    case '$': {
      const len = Number(buf.toString('latin1', start + 1, lineEnd));
      if (!Number.isInteger(len)) throw new Error(`malformed bulk length in reply ${describeBytes(buf.subarray(start))}`);
      if (len < 0) return lineEnd + 2;
      const end = lineEnd + 2 + len + 2;
      return end <= buf.length ? end : undefined;
    }
    case '*': {
      const count = Number(buf.toString('latin1', start + 1, lineEnd));
      if (!Number.isInteger(count)) throw new Error(`malformed array length in reply ${describeBytes(buf.subarray(start))}`);
      let pos: number | undefined = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        pos = frameEnd(buf, pos);
        if (pos === undefined) return undefined;
      }
      return pos;
    }
    default:
      throw new Error(
        `not a RESP2 reply (type byte ${JSON.stringify(type)}) in ${describeBytes(buf.subarray(start))}; ` +
          'use readRaw()/rawExchange() for RESP3 or non-RESP bytes',
      );
  }
}

/** Error replies nested in arrays (e.g. EXEC results) come back from redis-parser as Error objects. */
function normalize(value: unknown): Reply {
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map(normalize);
  return value as Reply;
}

interface ReplyWaiter {
  /** Gets the bytes of one whole reply. */
  resolve(frame: Buffer): void;
  reject(err: Error): void;
}

export interface ReadRawOptions {
  /** Resolve once at least this many bytes are available. */
  minBytes?: number;
  /** Resolve once the available bytes contain this sequence. */
  until?: string | Buffer;
  /**
   * With minBytes/until: fail after this long (default 5000 ms).
   * Without them: just collect for this long (default 100 ms) and return what came.
   */
  timeoutMs?: number;
}

export class RawClient {
  /** Received bytes not yet consumed by a parsed or raw read. */
  private inbox: Buffer = Buffer.alloc(0);
  private readonly replyWaiters: ReplyWaiter[] = [];
  /** The one raw read in progress, re-checked whenever bytes arrive or the socket closes. */
  private rawWaiter: (() => void) | undefined;
  private closed = false;
  private socketError: Error | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
      this.pump();
    });
    // 'close' always follows 'error'; remember why, so pending reads can say.
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.pump();
        resolve();
      });
    });
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ port, host });
      const timer = setTimeout(() => {
        socket.destroy(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Built synchronously inside 'connect', so no 'data' event can be missed.
        resolve(new RawClient(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sends one command as a multibulk array and resolves with its decoded reply.
   * Error replies resolve as `{ error }`; only a broken connection rejects.
   */
  send(...args: Arg[]): Promise<Reply> {
    const reply = this.readReply();
    if (!this.closed) this.socket.write(encodeCommand(args));
    return reply;
  }

  /** Sends several commands in one write; resolves with every reply, error replies as `{ error }` values. */
  pipeline(commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    const replies = commands.map(() => this.readReply());
    if (!this.closed) this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  /** One command; an error reply rejects with its text. */
  async command(...args: Arg[]): Promise<Reply> {
    const reply = await this.send(...args);
    if (isErrorReply(reply)) throw new Error(reply.error);
    return reply;
  }

  /** Writes bytes exactly as given (inline commands, pipelines, malformed input). */
  sendRaw(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves with the next decoded reply, e.g. one of several pipelined via sendRaw(). */
  readReply(): Promise<Reply> {
    return this.readFrame().then(decodeFrame);
  }

  /** Resolves with the bytes of the next whole reply, undecoded (cheap: the benchmark times its requests with it). */
  readFrame(): Promise<Buffer> {
    if (this.rawWaiter) return Promise.reject(new Error('RawClient: a raw read is in progress; await it before reading replies'));
    return new Promise<Buffer>((resolve, reject) => {
      this.replyWaiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Fails the connection when a reply takes longer than `ms` (the ops subcommands must not hang on a wedged server). */
  setReplyTimeout(ms: number): void {
    this.socket.setTimeout(ms);
    this.socket.on('timeout', () => {
      if (this.replyWaiters.length > 0) this.socket.destroy(new Error('timed out waiting for a reply'));
    });
  }

  /**
   * Resolves with all unconsumed bytes once the condition in `opts` holds
   * (see ReadRawOptions). With a condition, rejects on timeout or if the server
   * closes first; the error message shows the bytes received.
   */
  readRaw(opts: ReadRawOptions = {}): Promise<Buffer> {
    const { minBytes, until } = opts;
    if (minBytes === undefined && until === undefined) {
      return this.waitRaw({ done: () => false, timeoutMs: opts.timeoutMs ?? 100, onTimeout: 'resolve', onClose: 'resolve', what: 'bytes' });
    }
    const seq = typeof until === 'string' ? Buffer.from(until, 'latin1') : until;
    const what = [minBytes !== undefined ? `${minBytes} bytes` : '', seq ? `bytes containing ${describeBytes(seq)}` : '']
      .filter(Boolean)
      .join(' and ');
    return this.waitRaw({
      done: () => (minBytes === undefined || this.inbox.length >= minBytes) && (seq === undefined || this.inbox.includes(seq)),
      timeoutMs: opts.timeoutMs ?? 5000,
      onTimeout: 'reject',
      onClose: 'reject',
      what,
    });
  }

  /** Resolves with every unconsumed byte once the server closes the connection. */
  readRawUntilClose(timeoutMs = 5000): Promise<Buffer> {
    return this.waitRaw({
      done: () => this.closed,
      timeoutMs,
      onTimeout: 'reject',
      onClose: 'resolve',
      what: 'the server to close the connection',
    });
  }

  /** Half-closes politely and waits for the socket to close (destroying it if the server lingers). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await this.closedPromise;
    clearTimeout(timer);
  }

  /** Drops the connection at once (like a crashed client) and waits until it is closed. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closedPromise;
  }

  private waitRaw(spec: {
    done: () => boolean;
    timeoutMs: number;
    onTimeout: 'resolve' | 'reject';
    onClose: 'resolve' | 'reject';
    what: string;
  }): Promise<Buffer> {
    if (this.rawWaiter) return Promise.reject(new Error('RawClient: another raw read is already in progress'));
    if (this.replyWaiters.length > 0) return Promise.reject(new Error('RawClient: parsed replies are still pending; await them first'));
    return new Promise<Buffer>((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.rawWaiter = undefined;
        if (err) return reject(err);
        const bytes = this.inbox;
        this.inbox = Buffer.alloc(0);
        resolve(bytes);
      };
      const timer = setTimeout(() => {
        if (spec.onTimeout === 'resolve') return finish();
        finish(new Error(`timed out after ${spec.timeoutMs} ms waiting for ${spec.what}; received ${describeBytes(this.inbox)}`));
      }, spec.timeoutMs);
      this.rawWaiter = () => {
        if (spec.done()) return finish();
        if (!this.closed) return;
        if (spec.onClose === 'resolve') return finish();
        finish(new Error(`connection closed${this.closeReason()} while waiting for ${spec.what}; received ${describeBytes(this.inbox)}`));
      };
      this.rawWaiter();
    });
  }

  /** Hands complete replies to waiting parsed reads, then lets a raw read check its condition. */
  private pump(): void {
    while (this.replyWaiters.length > 0) {
      let end: number | undefined;
      try {
        end = frameEnd(this.inbox, 0);
      } catch (err) {
        for (const waiter of this.replyWaiters.splice(0)) waiter.reject(err as Error);
        break;
      }
      if (end === undefined) break;
      const frame = this.inbox.subarray(0, end);
      this.inbox = this.inbox.subarray(end);
      this.replyWaiters.shift()!.resolve(frame);
    }
    if (this.closed) {
      for (const waiter of this.replyWaiters.splice(0)) {
        waiter.reject(
          new Error(
            `connection closed${this.closeReason()} before a complete reply arrived; unconsumed bytes ${describeBytes(this.inbox)}`,
          ),
        );
      }
    }
    this.rawWaiter?.();
  }

  private closeReason(): string {
    return this.socketError ? ` (${this.socketError.message})` : '';
  }
}

/** Decodes exactly one complete RESP2 reply with redis-parser. */
function decodeFrame(frame: Buffer): Reply {
  let result: { value: Reply } | undefined;
  // A fresh parser per frame: cheap, and no state can leak between replies.
  const parser = new RedisParser({
    returnBuffers: true,
    returnReply: (reply: unknown) => {
      result = { value: normalize(reply) };
    },
    returnError: (err: Error) => {
      result = { value: { error: err.message } };
    },
    returnFatalError: (err: Error) => {
      throw err;
    },
  });
  parser.execute(frame);
  if (!result) throw new Error(`redis-parser produced no reply for ${describeBytes(frame)}`);
  return result.value;
}

export interface RawExchangeOptions {
  host?: string;
  /**
   * Without untilBytes: how long to collect bytes (default 250 ms), ending early if the server closes.
   * With untilBytes: how long to wait before failing (default 5000 ms).
   */
  waitMs?: number;
  /**
   * Stop as soon as this much has arrived: a number is a byte count (e.g. the
   * length of real redis-server's answer), a string/Buffer a sequence the bytes
   * must contain. If the server closes first, whatever arrived is returned so
   * the caller's byte comparison shows the difference.
   */
  untilBytes?: number | string | Buffer;
}

/**
 * Sends `bytes` on a fresh connection and returns exactly the bytes received,
 * for byte-for-byte comparison with real redis-server (RESP3 included).
 */
export async function rawExchange(port: number, bytes: Buffer | string, opts: RawExchangeOptions = {}): Promise<Buffer> {
  const client = await RawClient.connect(port, opts.host);
  try {
    client.sendRaw(bytes);
    const { untilBytes } = opts;
    if (untilBytes === undefined) return await client.readRaw({ timeoutMs: opts.waitMs ?? 250 });
    const condition = typeof untilBytes === 'number' ? { minBytes: untilBytes } : { until: untilBytes };
    try {
      return await client.readRaw({ ...condition, timeoutMs: opts.waitMs ?? 5000 });
    } catch (err) {
      // Closed before the condition held: return what came (nothing more will).
      if (client.isClosed) return await client.readRawUntilClose();
      throw err;
    }
  } finally {
    await client.destroy();
  }
}
