/**
 * Pub/sub across instances on PostgreSQL: every message is sent with NOTIFY on one channel
 * per table and heard, through LISTEN, by every instance, the sender included; each instance
 * delivers what it hears to its own subscribers. So every instance delivers the same messages
 * in the same order (the database's commit order), and each subscriber gets each message once.
 *
 * - Two dedicated connections, not from the pool: one LISTENs, one sends. Both reconnect
 *   after an outage (messages sent while an instance's listener is down are not replayed to it).
 * - NOTIFY payloads must be text under 8000 bytes: a message (binary channel and body) is
 *   base64-encoded and cut into parts, sent in order by the one sending connection, and put
 *   back together by the receivers (keyed by sender, parts of one message never interleave
 *   with another message of the same sender).
 * - PUBLISH answers once its own message has come back to this instance and been delivered
 *   here: the count is this instance's receivers (as PUBLISH in a Redis Cluster counts the
 *   node's), and a RESP3 subscriber that publishes gets the message before the reply, as in Redis.
 */
import { randomBytes } from 'node:crypto';
import { Client, type ClientConfig, type Notification } from 'pg';
import type { MessageBus, PubSubHub } from './hub';

/** Text per NOTIFY payload, under PostgreSQL's 8000-byte limit with room for the header. */
export const PART_CHARS = 7800;
/** Payloads per statement (each statement is one transaction). */
const PAYLOADS_PER_STATEMENT = 1000;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;

interface Outgoing {
  payloads: string[];
  seq: number;
}

interface Waiter {
  resolve(receivers: number): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Encodes one message: shard flag, channel length, channel, body. */
export function encodeMessage(shard: boolean, channel: Buffer, message: Buffer): string {
  const head = Buffer.alloc(5);
  head[0] = shard ? 1 : 0;
  head.writeUInt32BE(channel.length, 1);
  return Buffer.concat([head, channel, message]).toString('base64');
}

export function decodeMessage(text: string): { shard: boolean; channel: Buffer; message: Buffer } {
  const bytes = Buffer.from(text, 'base64');
  const length = bytes.readUInt32BE(1);
  return { shard: bytes[0] === 1, channel: bytes.subarray(5, 5 + length), message: bytes.subarray(5 + length) };
}

/** The NOTIFY payloads of one message: `<sender>:<seq>:<part>:<parts>:<base64 text>`. */
export function messagePayloads(sender: string, seq: number, encoded: string): string[] {
  const parts = Math.max(1, Math.ceil(encoded.length / PART_CHARS));
  const out: string[] = [];
  for (let i = 0; i < parts; i++) out.push(`${sender}:${seq}:${i}:${parts}:${encoded.slice(i * PART_CHARS, (i + 1) * PART_CHARS)}`);
  return out;
}

export class PostgresBus implements MessageBus {
  /** This instance's name in payloads. */
  readonly sender = randomBytes(6).toString('hex');
  readonly channel: string;
  private listener: Client | null = null;
  private publisher: Client | null = null;
  private listening = false;
  private closed = false;
  private seq = 0;
  private queue: Outgoing[] = [];
  private sending = false;
  private readonly waiters = new Map<number, Waiter>();
  /** Per sender, the message whose parts are arriving. */
  private readonly assembling = new Map<string, { seq: number; parts: string[]; total: number }>();
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Figures for INFO: reconnections of the listener, and parts heard. */
  readonly stats = { reconnects: 0, notificationsSent: 0, notificationsHeard: 0 };

  constructor(
    private readonly hub: PubSubHub,
    private readonly connection: ClientConfig,
    table: string,
    private readonly timeoutMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    // One channel per table: instances serving other tables on the same database are apart.
    this.channel = `respql_pubsub_${table}`.slice(0, 63);
  }

  async start(): Promise<void> {
    await this.connectListener();
  }

  /** Whether the listener is connected (messages sent now reach this instance). */
  get connected(): boolean {
    return this.listening;
  }

  private newClient(): Client {
    const client = new Client({ ...this.connection, application_name: 'respql-pubsub' });
    // An outage surfaces as 'error' then 'end'; reconnection follows 'end'.
    client.on('error', (err) => this.onError(err));
    return client;
  }

  private async connectListener(): Promise<void> {
    const client = this.newClient();
    client.on('notification', (n) => this.heard(n));
    client.on('end', () => {
      if (this.listener !== client) return;
      this.listener = null;
      this.listening = false;
      this.assembling.clear();
      this.scheduleReconnect();
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (err) {
      this.listener = null;
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) return void client.end().catch(() => undefined);
    this.listening = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.stats.reconnects++;
      this.connectListener().catch((err) => {
        this.onError(err);
        this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
        this.scheduleReconnect();
      });
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
  }

  publish(shard: boolean, channel: Buffer, message: Buffer): Promise<number> {
    if (this.closed || !this.listening) return Promise.reject(new Error('pub/sub listener not connected'));
    const seq = ++this.seq;
    const payloads = messagePayloads(this.sender, seq, encodeMessage(shard, channel, message));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new Error(`the message did not come back within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiters.set(seq, { resolve, reject, timer });
      this.queue.push({ payloads, seq });
      if (!this.sending) void this.send();
    });
  }

  /** Sends the queue in order on the one sending connection, many payloads per statement. */
  private async send(): Promise<void> {
    this.sending = true;
    while (this.queue.length && !this.closed) {
      const batch: Outgoing[] = [];
      let count = 0;
      while (this.queue.length && (count === 0 || count + this.queue[0].payloads.length <= PAYLOADS_PER_STATEMENT)) {
        const next = this.queue.shift()!;
        batch.push(next);
        count += next.payloads.length;
      }
      try {
        const publisher = await this.publisherClient();
        const payloads = batch.flatMap((o) => o.payloads);
        for (let i = 0; i < payloads.length; i += PAYLOADS_PER_STATEMENT) {
          // unnest yields the array in order, and one statement's notifications are delivered in the order sent.
          await publisher.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [
            this.channel,
            payloads.slice(i, i + PAYLOADS_PER_STATEMENT),
          ]);
        }
        this.stats.notificationsSent += payloads.length;
      } catch (err) {
        for (const o of batch) this.fail(o.seq, err as Error);
      }
    }
    this.sending = false;
  }

  private async publisherClient(): Promise<Client> {
    if (this.publisher) return this.publisher;
    const client = this.newClient();
    client.on('end', () => {
      if (this.publisher === client) this.publisher = null;
    });
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    return (this.publisher = client);
  }

  private fail(seq: number, err: Error): void {
    const waiter = this.waiters.get(seq);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(seq);
    waiter.reject(err);
  }

  /** One NOTIFY heard: a whole message once its last part is in, delivered here. */
  private heard(n: Notification): void {
    if (n.channel !== this.channel || n.payload === undefined) return;
    this.stats.notificationsHeard++;
    const p = n.payload;
    const c1 = p.indexOf(':');
    const c2 = p.indexOf(':', c1 + 1);
    const c3 = p.indexOf(':', c2 + 1);
    const c4 = p.indexOf(':', c3 + 1);
    if (c4 < 0) return;
    const sender = p.slice(0, c1);
    const seq = Number(p.slice(c1 + 1, c2));
    const part = Number(p.slice(c2 + 1, c3));
    const total = Number(p.slice(c3 + 1, c4));
    const text = p.slice(c4 + 1);
    let encoded: string;
    if (total === 1) encoded = text;
    else {
      let a = this.assembling.get(sender);
      // A sender's parts come in order: a first part starts afresh (an unfinished message, cut by an outage, is dropped).
      if (part === 0 || !a || a.seq !== seq) this.assembling.set(sender, (a = { seq, parts: [], total }));
      if (a.parts.length !== part) return;
      a.parts.push(text);
      if (a.parts.length < total) return;
      this.assembling.delete(sender);
      encoded = a.parts.join('');
    }
    let receivers = 0;
    try {
      const m = decodeMessage(encoded);
      receivers = this.hub.deliver(m.shard, m.channel, m.message);
    } catch (err) {
      this.onError(err);
    }
    if (sender !== this.sender) return;
    const waiter = this.waiters.get(seq);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(seq);
    waiter.resolve(receivers);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const seq of [...this.waiters.keys()]) this.fail(seq, new Error('server closing'));
    const listener = this.listener;
    const publisher = this.publisher;
    this.listener = this.publisher = null;
    this.listening = false;
    await Promise.all([listener?.end().catch(() => undefined), publisher?.end().catch(() => undefined)]);
  }
}
