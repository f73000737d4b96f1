/**
 * Micro-benchmark of one merged read on SQLite, without the server: the same 100,000-row file
 * shape as `npm run bench` (1 KB values, mmap as respql sets it), keys drawn at random, read in
 * batches of 16, 50 and 800 keys (a -P 1 cohort, and -P 16 batches) by the two statements
 * respql has: one row per value, and the packed read (Dialect.packedRead). Prints µs per key.
 *
 *   npm run build && node dist/scripts/read-micro.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sqlite } from '../src/store/dialects/sqlite';

const ROWS = 100_000;
const KEYS_PER_SIZE = 400_000;
const table = '"sessions"';
const live = '(expiry IS NULL OR expiry > ?)';

const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-read-micro-'));
try {
  const db = new Database(path.join(dir, 'micro.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('mmap_size = 1073741824');
  db.exec(`CREATE TABLE ${table} (token TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL, expiry INTEGER)`);
  db.exec(
    `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS - 1}) ` +
      `INSERT INTO ${table} SELECT printf('key:%012d', i), randomblob(1024), NULL FROM c`,
  );
  const rowWise = db.prepare(`SELECT token, data FROM ${table} WHERE ${sqlite.tokenInList} AND ${live}`);
  const packed = db.prepare(sqlite.packedRead!.sql(table, live));
  const now = Date.now();

  const readRows = (keys: string[]): (Buffer | null)[] => {
    const found = new Map<string, Buffer>();
    for (const row of rowWise.all(JSON.stringify(keys), now) as { token: string; data: Buffer }[]) found.set(row.token, row.data);
    return keys.map((k) => found.get(k) ?? null);
  };
  const readPacked = (keys: string[]): (Buffer | null)[] => {
    const row = packed.get(JSON.stringify(keys), now) as { positions: string; lengths: string; packed: Buffer | null };
    const positions = JSON.parse(row.positions) as number[];
    const lengths = JSON.parse(row.lengths) as number[];
    const values = new Array<Buffer | null>(keys.length).fill(null);
    let offset = 0;
    for (let i = 0; i < positions.length; i++) {
      values[positions[i]] = row.packed!.subarray(offset, offset + lengths[i]);
      offset += lengths[i];
    }
    return values;
  };

  for (const batch of [16, 50, 800]) {
    const batches = Array.from({ length: Math.ceil(KEYS_PER_SIZE / batch) }, () =>
      Array.from({ length: batch }, () => `key:${String(Math.floor(Math.random() * ROWS)).padStart(12, '0')}`),
    );
    const best: Record<string, number> = {};
    // Three alternating rounds; the best of each (the least disturbed by the rest of the machine).
    for (let round = 0; round < 3; round++) {
      for (const [name, read] of [
        ['row per value', readRows],
        ['packed', readPacked],
      ] as const) {
        const start = process.hrtime.bigint();
        for (const keys of batches) read(keys);
        const us = Number(process.hrtime.bigint() - start) / 1e3 / (batch * batches.length);
        best[name] = Math.min(best[name] ?? Infinity, us);
      }
    }
    console.log(
      `${batch} keys per read: ${Object.entries(best)
        .map(([name, us]) => `${name} ${us.toFixed(2)} µs/key`)
        .join(', ')}`,
    );
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
