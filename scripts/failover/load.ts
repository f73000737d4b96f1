/**
 * Session traffic for the failover drill: half the clients are ioredis connections writing
 * sessions with SET ... EX, half are connect-redis stores (express-session's calls) on
 * node-redis. Each client rewrites a few sessions of its own with a version that only grows, and
 * retries a failed write the way a web app's next request would, within a bounded time.
 *
 * Every attempt is recorded (when, how long, error text), and every acknowledged write too: the
 * check at the end counts an acknowledged write as present when its session holds that version
 * or a later one of the same client's.
 */
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient } from '../../test/support/resp-client';

const SESSIONS_PER_CLIENT = 4;
/** A web app gives a request about this long before it shows the user an error. */
const RETRY_BUDGET_MS = 8000;
const RETRY_PAUSE_MS = 100;

export interface Attempt {
  /** performance.now() when it was sent. */
  at: number;
  ms: number;
  /** The error's text, or null for a success. */
  error: string | null;
}

interface Writer {
  write(sid: string, version: number): Promise<void>;
  close(): void;
}

function session(client: number, version: number): SessionData & { client: number; version: number } {
  const cookie = { originalMaxAge: 3_600_000, path: '/', httpOnly: true } as SessionData['cookie'];
  return { cookie, client, version };
}

async function ioredisWriter(port: number, client: number): Promise<Writer> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined); // each command reports its own failure
  await redis.connect();
  return {
    async write(sid, version) {
      await redis.set(`sess:${sid}`, JSON.stringify(session(client, version)), 'EX', 3600);
    },
    close: () => redis.disconnect(),
  };
}

async function connectRedisWriter(port: number, client: number): Promise<Writer> {
  const redis = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: () => 50 } });
  redis.on('error', () => undefined);
  await redis.connect();
  const store = new RedisStore({ client: redis, prefix: 'sess:' });
  return {
    async write(sid, version) {
      await store.set(sid, session(client, version));
    },
    close: () => redis.destroy(),
  };
}

export interface LoadCheck {
  acknowledged: number;
  present: number;
  lost: string[];
}

export class SessionLoad {
  readonly attempts: Attempt[] = [];
  /** Writes that still failed when their retry budget ran out. */
  readonly givenUp: { at: number; error: string }[] = [];
  /** Per session: every version acknowledged. */
  private readonly acked = new Map<string, number[]>();
  private writers: Writer[] = [];
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(readonly clients: number) {}

  get acknowledged(): number {
    let n = 0;
    for (const versions of this.acked.values()) n += versions.length;
    return n;
  }

  async start(port: number): Promise<void> {
    this.writers = await Promise.all(
      Array.from({ length: this.clients }, (_, c) => (c % 2 === 0 ? ioredisWriter(port, c) : connectRedisWriter(port, c))),
    );
    this.running = this.writers.map((writer, c) => this.run(writer, c));
  }

  /** Lets each client finish the write it is on (retries included), then closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    for (const w of this.writers) w.close();
  }

  private async run(writer: Writer, c: number): Promise<void> {
    for (let version = 0; !this.stopping; version++) {
      const sid = `c${c}-${version % SESSIONS_PER_CLIENT}`;
      const first = performance.now();
      for (;;) {
        const at = performance.now();
        try {
          await writer.write(sid, version);
          this.attempts.push({ at, ms: performance.now() - at, error: null });
          const versions = this.acked.get(sid) ?? [];
          versions.push(version);
          this.acked.set(sid, versions);
          break;
        } catch (err) {
          const error = (err as Error).message;
          this.attempts.push({ at, ms: performance.now() - at, error });
          // Even when stopping: a write in flight gets its whole budget, as a user's request would.
          if (performance.now() - first > RETRY_BUDGET_MS) {
            this.givenUp.push({ at: first, error });
            break;
          }
          await sleep(RETRY_PAUSE_MS);
        }
      }
    }
  }

  /** Reads every session back (through `port`) and counts the acknowledged writes it still shows. */
  async check(port: number): Promise<LoadCheck> {
    const conn = await RawClient.connect(port);
    try {
      const sids = [...this.acked.keys()];
      const values = (await conn.send('MGET', ...sids.map((sid) => `sess:${sid}`))) as (Buffer | null)[];
      if (!Array.isArray(values)) throw new Error(`MGET failed: ${JSON.stringify(values)}`);
      const result: LoadCheck = { acknowledged: 0, present: 0, lost: [] };
      sids.forEach((sid, i) => {
        const stored = values[i] === null ? null : (JSON.parse(values[i].toString()) as { client: number; version: number });
        for (const version of this.acked.get(sid)!) {
          result.acknowledged++;
          // A later write of the same client's may have replaced it (acknowledged or not: it was sent).
          if (stored && stored.client === Number(sid.slice(1, sid.indexOf('-'))) && stored.version >= version) result.present++;
          else result.lost.push(`${sid} v${version}: holds ${stored ? `v${stored.version}` : 'nothing'}`);
        }
      });
      return result;
    } finally {
      await conn.destroy();
    }
  }
}

/** The p-th percentile of `values` (0 for none). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
