import type { Socket } from 'node:net';
import type { ClientState, ConnectionLimits, ServerStats } from '../commands/context';
import type { CommandPipeline } from '../commands/pipeline';
import { DEFAULT_LIMITS as DECODER_DEFAULTS, RequestDecoder } from '../protocol/decoder';
import { ReplyWriter, type ProtocolVersion } from '../protocol/encoder';
import { RespError } from '../protocol/errors';
import { NO_REPLY, type Reply } from '../protocol/reply';

/** A reply waiting for its turn: replies leave in request order even when they finish out of order. */
interface Slot {
  reply: Reply | undefined;
  protocol: ProtocolVersion;
  closeAfter: boolean;
}

let nextClientId = 1;

/** Replies smaller than this (all ready together) are copied into one buffer for one write. */
const COPY_REPLIES_BELOW = 64 * 1024;

/**
 * One client connection: decodes requests, hands them to the pipeline in order, and
 * writes replies in request order, several per socket write when they are ready together.
 */
export class Connection {
  readonly state: ClientState;
  private readonly decoder: RequestDecoder;
  private readonly writer = new ReplyWriter(2);
  private readonly slots: Slot[] = [];
  private flushScheduled = false;
  private closing = false;
  /** Resolves when every dispatched command has replied (graceful close). */
  private drainedWaiters: (() => void)[] = [];
  private readonly limits: ConnectionLimits;
  /** When (epoch seconds) unread replies last rose to the soft output limit; null while below it. */
  private softLimitSince: number | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly pipeline: CommandPipeline,
    private readonly stats: ServerStats,
    /** `id`: a worker's own (unique across workers); by default the next of this process. */
    options: { requirePassword: boolean; limits: ConnectionLimits; id?: number },
  ) {
    this.limits = options.limits;
    const now = Date.now();
    this.state = {
      id: options.id ?? nextClientId++,
      name: null,
      protocol: 2,
      authenticated: !options.requirePassword,
      user: 'default',
      libName: null,
      libVersion: null,
      createdAt: now,
      lastInteraction: now,
      lastCommand: 'NULL',
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      localAddress: `${socket.localAddress}:${socket.localPort}`,
      multi: null,
      watched: new Map(),
      closeAfterReply: false,
      replyMode: 'on',
      subscriptions: 0,
      db: 0,
    };
    const limits = this.limits;
    this.decoder = new RequestDecoder(
      (argv) => this.onRequest(argv),
      (error) => this.onProtocolError(error),
      // Read at every bulk header: CONFIG SET proto-max-bulk-len applies to open connections too, as in Redis.
      {
        ...DECODER_DEFAULTS,
        get maxBulkLength() {
          return limits.protoMaxBulkLen;
        },
      },
      () => this.state.authenticated,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.stats.netInputBytes += chunk.length;
      this.decoder.feed(chunk);
      // client-query-buffer-limit: Redis closes such a client without a reply.
      if (this.decoder.pendingBytes > this.limits.queryBufferLimit) return this.kill();
      this.flush();
    });
    // `timeout`: idle clients are closed; clients with replies pending are not idle.
    socket.on('timeout', () => {
      if (!this.slots.length) this.kill();
    });
    this.applyIdleTimeout();
    socket.on('error', () => socket.destroy());
  }

  /** Arms the idle timer from the current `timeout` (again after CONFIG SET; 0 disarms it). */
  applyIdleTimeout(): void {
    this.socket.setTimeout(this.limits.idleTimeoutSeconds * 1000);
  }

  get socketHandle(): Socket {
    return this.socket;
  }

  private onRequest(argv: Buffer[]): void {
    if (this.closing) return;
    const state = this.state;
    state.lastInteraction = Date.now();
    let silent = state.replyMode === 'off';
    if (state.replyMode === 'skip') {
      silent = true;
      state.replyMode = 'on';
    }
    const result = this.pipeline.dispatch(state, argv);
    const slot: Slot = { reply: undefined, protocol: state.protocol, closeAfter: state.closeAfterReply };
    if (result instanceof Promise) {
      this.slots.push(slot);
      result.then(
        (reply) => {
          slot.reply = silent ? NO_REPLY : reply;
          this.scheduleFlush();
        },
        (err: unknown) => {
          // The pipeline turns command failures into replies, so this is a bug; answer it
          // rather than leave this slot, and every reply queued after it, waiting forever.
          slot.reply = silent ? NO_REPLY : new RespError(`ERR ${err instanceof Error ? err.message : String(err)}`);
          this.scheduleFlush();
        },
      );
    } else {
      slot.reply = silent ? NO_REPLY : result;
      this.slots.push(slot);
    }
    if (slot.closeAfter) {
      // QUIT: nothing after it is read.
      this.closing = true;
      this.decoder.stop();
    }
  }

  /**
   * A pub/sub message (a RESP3 push), placed as Redis's serial execution would place it: after
   * every reply already known (so after the confirmation of the SUBSCRIBE that asked for it),
   * before the replies still being worked out (so a client's own PUBLISH, or its write's keyspace
   * event, comes before that command's reply). Sent even under CLIENT REPLY OFF, as Redis does.
   */
  push(reply: Reply): void {
    if (this.closing) return;
    let at = this.slots.length;
    while (at > 0 && this.slots[at - 1].reply === undefined) at--;
    const slot = { reply, protocol: this.state.protocol, closeAfter: false };
    if (at === this.slots.length) this.slots.push(slot);
    else this.slots.splice(at, 0, slot);
    this.scheduleFlush();
  }

  private onProtocolError(error: RespError): void {
    this.slots.push({ reply: error, protocol: this.state.protocol, closeAfter: true });
    this.closing = true;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Replies settled in the same turn leave in one write.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes every leading reply that is ready. */
  private flush(): void {
    let closeNow = false;
    while (this.slots.length && this.slots[0].reply !== undefined) {
      const slot = this.slots.shift()!;
      if (slot.reply instanceof Error) this.stats.errorReplies++;
      this.writer.protocol = slot.protocol;
      this.writer.write(slot.reply!);
      if (slot.closeAfter) {
        closeNow = true;
        break;
      }
    }
    const chunks = this.writer.take();
    if (chunks.length && !this.socket.destroyed) {
      let size = 0;
      for (const chunk of chunks) size += chunk.length;
      this.stats.netOutputBytes += size;
      if (chunks.length === 1 || size <= COPY_REPLIES_BELOW) {
        // One buffer is one write(); several would go through the stream's writev path, which
        // costs more than copying a few KB (GET -P 1's profile: writev was a third of busy time).
        this.socket.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      } else {
        // Large values are written in place, not copied.
        this.socket.cork();
        for (const chunk of chunks) this.socket.write(chunk);
        this.socket.uncork();
      }
      if (this.overOutputBufferLimit()) this.kill();
    }
    if (closeNow) {
      this.slots.length = 0;
      // As Redis's freeClient: once the last reply is out, both directions close; a client
      // still sending (after a protocol error, or after QUIT) is read no more.
      this.socket.end(() => this.socket.destroy());
    }
    if (!this.slots.length) for (const wake of this.drainedWaiters.splice(0)) wake();
  }

  /**
   * client-output-buffer-limit normal or pubsub, as Redis's checkClientOutputBufferLimits: a client
   * whose unread replies reach the hard limit, or stay at the soft limit for longer than
   * its seconds, is dropped.
   */
  private overOutputBufferLimit(): boolean {
    // A subscribed client is of the pubsub class (Redis's getClientType).
    const { hard, soft, seconds } = this.limits.outputBuffer[this.state.subscriptions > 0 ? 'pubsub' : 'normal'];
    const used = this.socket.writableLength;
    if (hard > 0 && used >= hard) return true;
    if (soft === 0 || used < soft) {
      this.softLimitSince = null;
      return false;
    }
    const now = Math.floor(Date.now() / 1000);
    this.softLimitSince ??= now;
    return now - this.softLimitSince > seconds;
  }

  /** Waits for replies in flight, then closes the socket. */
  async close(): Promise<void> {
    this.closing = true;
    this.decoder.stop();
    if (this.slots.length) await new Promise<void>((resolve) => this.drainedWaiters.push(resolve));
    this.socket.end();
    this.socket.destroySoon();
  }

  /** Closes at once (CLIENT KILL). */
  kill(): void {
    this.closing = true;
    this.decoder.stop();
    this.socket.destroy();
  }
}
