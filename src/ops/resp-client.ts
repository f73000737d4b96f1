/**
 * A tiny RESP2 client for the operations subcommands (`ping`, `import`).
 *
 * Why not ioredis: it stays a devDependency (the test clients). A production dependency
 * would add ioredis and its ~10 transitive packages to every install and to the Docker
 * image, for two subcommands that need only "write commands, read replies in order".
 * redis-parser (already a dependency) does the reply parsing; commands are encoded here.
 */
import net from 'node:net';
import RedisParser from 'redis-parser';

export type Reply = Buffer | number | null | Reply[] | ReplyError;

/** An error reply (`-ERR ...`), delivered as a value inside pipelines. */
export class ReplyError extends Error {}

type Arg = string | Buffer | number;

export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Waiter {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Connect timeout, and the longest wait for any reply; default 10 s. */
  timeoutMs?: number;
}

export class RespClient {
  private readonly waiters: Waiter[] = [];
  private readonly parser: RedisParser;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    this.parser = new RedisParser({
      returnBuffers: true,
      returnReply: (reply: Reply) => this.waiters.shift()?.resolve(reply),
      returnError: (err: Error) => this.waiters.shift()?.resolve(new ReplyError(err.message)),
      returnFatalError: (err: Error) => this.fail(new Error(`protocol error: ${err.message}`)),
    });
    socket.on('data', (chunk) => this.parser.execute(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.on('timeout', () => {
      if (this.waiters.length) this.fail(new Error('timed out waiting for a reply'));
    });
  }

  static connect(options: ConnectOptions): Promise<RespClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`timed out connecting after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setTimeout(timeoutMs);
        resolve(new RespClient(socket));
      });
    });
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.socket.destroy();
  }

  /** Sends several commands in one write; resolves with every reply, error replies as ReplyError values. */
  pipeline(commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    const replies = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.waiters.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  /** One command; an error reply rejects. */
  async command(...args: Arg[]): Promise<Reply> {
    const [reply] = await this.pipeline([args]);
    if (reply instanceof ReplyError) throw reply;
    return reply;
  }

  close(): void {
    this.failure ??= new Error('connection closed');
    this.socket.end();
    this.socket.destroy();
  }
}
