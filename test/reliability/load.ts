/**
 * A write load for the reliability tests, and the check that nothing acknowledged was lost.
 *
 * Each client owns a few keys and writes `SET key value` to them in turn, one command at a
 * time, with a sequence number that only grows (across restarts of the server too). The
 * value is a function of (client, sequence), so a stored value names the write it came
 * from. The check: every key whose write got +OK holds that value or a later one of the
 * same client's, and no key holds anything that was never sent.
 */
import { isErrorReply, RawClient, type Reply } from '../support/resp-client';

const PADDING = '.'.repeat(100);

export function valueFor(client: number, seq: number): string {
  return `c${client}:s${seq}:${PADDING}`;
}

function keyFor(client: number, slot: number): string {
  return `rel:c${client}:k${slot}`;
}

interface KeyState {
  client: number;
  slot: number;
  /** Every sequence number sent to this key. */
  sent: Set<number>;
  /** Highest sequence number acknowledged with +OK (or found committed by a check); -1 for none. */
  acked: number;
}

/** A command answered with an error reply, and how long it took. */
export interface ErrorSample {
  text: string;
  ms: number;
}

export interface CheckResult {
  /** Keys that had an acknowledged write, all of them checked. */
  acknowledgedKeys: number;
  /** Keys holding a write sent after their last acknowledged one (committed, but the reply never came). */
  unacknowledgedButCommitted: number;
  violations: string[];
}

export class WriteLoad {
  private readonly keys = new Map<string, KeyState>();
  private readonly seq: number[];
  private running: Promise<void>[] = [];
  private stopping = false;
  /** +OK replies, over the whole life of the load. */
  acknowledged = 0;
  readonly errors: ErrorSample[] = [];
  /** Connections that ended with a command in flight (the server went away). */
  cutOff = 0;

  constructor(
    readonly clients: number,
    private readonly keysPerClient = 5,
  ) {
    this.seq = Array(clients).fill(0);
  }

  /** Starts every client against `port`; they run until stop() or until their connection ends. */
  async start(port: number): Promise<void> {
    this.stopping = false;
    const connections = await Promise.all(Array.from({ length: this.clients }, () => RawClient.connect(port)));
    this.running = connections.map((conn, c) => this.runClient(conn, c));
  }

  /** Stops sending and waits for the replies in flight (or for the connections to end). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    this.running = [];
  }

  private async runClient(conn: RawClient, c: number): Promise<void> {
    try {
      while (!this.stopping) {
        const seq = this.seq[c]++;
        const key = keyFor(c, seq % this.keysPerClient);
        let state = this.keys.get(key);
        if (!state) this.keys.set(key, (state = { client: c, slot: seq % this.keysPerClient, sent: new Set(), acked: -1 }));
        state.sent.add(seq);
        const started = performance.now();
        let reply: Reply;
        try {
          reply = await conn.send('SET', key, valueFor(c, seq));
        } catch {
          this.cutOff++;
          return;
        }
        if (isErrorReply(reply)) {
          this.errors.push({ text: reply.error, ms: performance.now() - started });
        } else if (Buffer.isBuffer(reply) && reply.toString() === 'OK') {
          this.acknowledged++;
          state.acked = Math.max(state.acked, seq);
        } else {
          throw new Error(`unexpected reply to SET: ${JSON.stringify(reply)}`);
        }
      }
    } finally {
      await conn.destroy();
    }
  }

  /** Reads every key back through a respql on `port` and checks it against what was sent and acknowledged. */
  async check(port: number): Promise<CheckResult> {
    const conn = await RawClient.connect(port);
    const result: CheckResult = { acknowledgedKeys: 0, unacknowledgedButCommitted: 0, violations: [] };
    try {
      const names = [...this.keys.keys()];
      for (let i = 0; i < names.length; i += 500) {
        const chunk = names.slice(i, i + 500);
        const values = (await conn.send('MGET', ...chunk)) as (Buffer | null)[];
        if (!Array.isArray(values)) throw new Error(`MGET failed: ${JSON.stringify(values)}`);
        chunk.forEach((key, j) => this.checkKey(key, values[j], result));
      }
      // No key of the load's that it never wrote.
      const all = (await conn.send('KEYS', 'rel:*')) as Buffer[];
      for (const key of all.map(String)) if (!this.keys.has(key)) result.violations.push(`${key}: a key that was never written`);
    } finally {
      await conn.destroy();
    }
    return result;
  }

  private checkKey(key: string, value: Buffer | null, result: CheckResult): void {
    const state = this.keys.get(key)!;
    if (state.acked >= 0) result.acknowledgedKeys++;
    if (value === null) {
      if (state.acked >= 0) result.violations.push(`${key}: missing, but s${state.acked} was acknowledged`);
      return;
    }
    const text = value.toString();
    const m = /^c(\d+):s(\d+):/.exec(text);
    const seq = m ? Number(m[2]) : NaN;
    if (!m || Number(m[1]) !== state.client || text !== valueFor(state.client, seq) || !state.sent.has(seq)) {
      result.violations.push(`${key}: holds ${JSON.stringify(text.slice(0, 40))}, which was never sent to it`);
    } else if (seq < state.acked) {
      result.violations.push(`${key}: holds s${seq}, older than the acknowledged s${state.acked}`);
    } else if (seq > state.acked) {
      result.unacknowledgedButCommitted++;
      // Seen after a restart, so durable: from now on it must stay, like an acknowledged one.
      state.acked = seq;
    }
  }
}
