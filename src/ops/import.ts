/**
 * `respql import --from redis://host:port [--match 'sess:*']`: copies string keys and
 * their remaining TTLs from a running Redis into respql's table.
 *
 * Per SCAN page (COUNT = batch): one pipelined round trip of PTTL + GET per key, then one
 * write transaction through the engine (the same Store.put the server uses), which runs
 * while the next page is read from Redis. Writes are
 * upserts, so running the import twice leaves the same rows; a key that SCAN returns
 * twice is simply written twice. Remaining TTLs are turned into absolute expiries from the
 * moment the page's PTTLs were sent, so an imported key never outlives its Redis original.
 *
 * Not copied, and counted in the summary: keys of other types (hash, list, ... with their
 * type), keys that are not UTF-8 text (respql keeps keys in a text column, as the server
 * itself requires), and keys that expired or vanished between SCAN and the write.
 */
import { isUtf8 } from 'node:buffer';
import type { RedisUrl } from '../config';
import { createServer, type RespqlOptions, type RespqlServer } from '../server/server';
import { RawClient, isErrorReply, replyText, type Reply } from './resp-client';

export interface ImportOptions {
  from: RedisUrl;
  match: string | null;
  batch: number;
  /** Where to write: the same database settings as the server. */
  store: RespqlOptions;
  /** Called after every page with the running totals. */
  onProgress?(progress: ImportSummary): void;
  /** Clock for expiry arithmetic (ms). */
  clock?: () => number;
}

export interface ImportSummary {
  /** Keys SCAN returned. */
  scanned: number;
  /** String keys written to respql. */
  copied: number;
  /** Of the copied keys, how many carry a TTL. */
  withTtl: number;
  /** Keys of other types, by type name. */
  skippedTypes: Record<string, number>;
  /** Keys that are not UTF-8 text (or contain NUL). */
  skippedNotText: number;
  /** Keys that expired or were deleted between SCAN and the write. */
  expiredInFlight: number;
  durationMs: number;
}

export function skippedNonString(summary: ImportSummary): number {
  return Object.values(summary.skippedTypes).reduce((a, b) => a + b, 0);
}

function keyText(key: Buffer): string | null {
  return isUtf8(key) && !key.includes(0) ? key.toString('utf8') : null;
}

function asInteger(reply: Reply): number {
  if (typeof reply === 'number') return reply;
  throw new Error(`unexpected reply ${replyText(reply)}`);
}

export async function importFromRedis(options: ImportOptions): Promise<ImportSummary> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const summary: ImportSummary = {
    scanned: 0,
    copied: 0,
    withTtl: 0,
    skippedTypes: {},
    skippedNotText: 0,
    expiredInFlight: 0,
    durationMs: 0,
  };
  const { from } = options;
  let client: RawClient;
  try {
    client = await RawClient.connect(from.port, from.host, 30_000);
    client.setReplyTimeout(30_000);
  } catch (err) {
    throw new Error(`cannot connect to Redis at ${from.host}:${from.port}: ${(err as Error).message}`, { cause: err });
  }
  const server = createServer({ ...options.store, cleanupIntervalMs: 0, clock });
  try {
    if (from.password !== null) {
      await client.command(...(from.username ? ['AUTH', from.username, from.password] : ['AUTH', from.password]));
    }
    if (from.db !== 0) await client.command('SELECT', from.db);
    if (options.store.migrate !== false) await server.engine.migrate();

    // Fetching page n+1 from Redis overlaps with writing page n to the database.
    // A failed write is kept (not left as an unhandled rejection) and rethrown when awaited.
    let writeError: Error | null = null;
    let writing: Promise<void> = Promise.resolve();
    const settleWrite = async () => {
      await writing;
      if (writeError) throw writeError;
    };
    let cursor = '0';
    try {
      do {
        const scanArgs = ['SCAN', cursor, ...(options.match ? ['MATCH', options.match] : []), 'COUNT', String(options.batch)];
        const page = (await client.command(...scanArgs)) as [Buffer, Buffer[]];
        cursor = page[0].toString();
        const keys = page[1];
        summary.scanned += keys.length;
        const rows = keys.length ? await fetchPage(client, keys, summary, clock) : [];
        await settleWrite();
        options.onProgress?.({ ...summary, durationMs: clock() - started });
        writing = writeRows(server, rows, summary).catch((err: Error) => void (writeError = err));
      } while (cursor !== '0');
    } finally {
      // Let the last write finish before the database is closed.
      await writing;
    }
    await settleWrite();
    options.onProgress?.({ ...summary, durationMs: clock() - started });
  } finally {
    await client.destroy();
    await server.close();
  }
  summary.durationMs = clock() - started;
  return summary;
}

interface Row {
  key: string;
  value: Buffer;
  expiry: number | null;
}

/** PTTL + GET for a page of keys in one round trip; returns the rows to write. */
async function fetchPage(client: RawClient, keys: Buffer[], summary: ImportSummary, clock: () => number): Promise<Row[]> {
  const sentAt = clock();
  const replies = await client.pipeline(
    keys.flatMap((k) => [
      ['PTTL', k],
      ['GET', k],
    ]),
  );
  const rows: Row[] = [];
  const otherTypes: Buffer[] = [];
  keys.forEach((rawKey, i) => {
    const pttl = replies[2 * i];
    const value = replies[2 * i + 1];
    const key = keyText(rawKey);
    if (key === null) {
      summary.skippedNotText++;
    } else if (isErrorReply(value)) {
      if (!/^WRONGTYPE/.test(value.error)) throw new Error(`GET failed: ${value.error}`);
      otherTypes.push(rawKey);
    } else if (!Buffer.isBuffer(value) || asInteger(pttl) === -2) {
      summary.expiredInFlight++;
    } else {
      const ttl = asInteger(pttl);
      rows.push({ key, value, expiry: ttl >= 0 ? sentAt + ttl : null });
    }
  });
  if (otherTypes.length) {
    const types = await client.pipeline(otherTypes.map((k) => ['TYPE', k]));
    for (const t of types) {
      const name = Buffer.isBuffer(t) ? t.toString() : 'unknown';
      if (name === 'none') summary.expiredInFlight++;
      else summary.skippedTypes[name] = (summary.skippedTypes[name] ?? 0) + 1;
    }
  }
  return rows;
}

/** One transaction per page; rows whose TTL ran out meanwhile are counted, not written. */
async function writeRows(server: RespqlServer, rows: Row[], summary: ImportSummary): Promise<void> {
  if (!rows.length) return;
  const written = await server.engine.transaction(async (store) => {
    let copied = 0;
    let withTtl = 0;
    for (const row of rows) {
      if (row.expiry !== null && row.expiry <= store.now) continue;
      await store.put(row.key, row.value, row.expiry);
      copied++;
      if (row.expiry !== null) withTtl++;
    }
    return { copied, withTtl };
  });
  summary.copied += written.copied;
  summary.withTtl += written.withTtl;
  summary.expiredInFlight += rows.length - written.copied;
}
