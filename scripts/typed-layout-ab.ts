/**
 * A/B of two layouts for session hashes, at the SQL level (no server), on SQLite and PostgreSQL:
 *  (a) field table: the key's row in sessions (type, expiry), one row per field in
 *      sessions_hash_fields (token, seq, field, value) — what respql's migration 004 makes;
 *  (b) packed: the whole hash as one blob in sessions.data (length-prefixed fields), as Redis
 *      keeps a small hash in one listpack; a write reads, changes and rewrites the blob.
 * Traffic as Spring Session makes it: read a random session whole (HGETALL), then save two small
 * fields and move the expiry (HSET + EXPIRE), in transactions of BATCH sessions (a group commit).
 *
 *   node dist/scripts/typed-layout-ab.js [sessions] [seconds]
 *
 * PostgreSQL: a throwaway cluster (test/support/postgres), fsync on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { freshDatabase, stopSharedPostgres } from '../test/support/postgres';

const SESSIONS = Number(process.argv[2] ?? 10_000);
const SECONDS = Number(process.argv[3] ?? 5);
const BATCH = 50;
const ATTRIBUTE = Buffer.alloc(1024, 'a');

type Pairs = [Buffer, Buffer][];
const key = (i: number) => `spring:session:sessions:${String(i).padStart(12, '0')}`;
const initial = (): Pairs => [
  [Buffer.from('creationTime'), Buffer.from('1700000000000')],
  [Buffer.from('lastAccessedTime'), Buffer.from('1700000000000')],
  [Buffer.from('maxInactiveInterval'), Buffer.from('1800')],
  [Buffer.from('sessionAttr:data'), ATTRIBUTE],
];
const saved = (): Pairs => [
  [Buffer.from('lastAccessedTime'), Buffer.from(String(Date.now()))],
  [Buffer.from('maxInactiveInterval'), Buffer.from('1800')],
];

function pack(pairs: Pairs): Buffer {
  const parts: Buffer[] = [];
  for (const [f, v] of pairs) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(f.length, 0);
    h.writeUInt32LE(v.length, 4);
    parts.push(h, f, v);
  }
  return Buffer.concat(parts);
}
function unpack(b: Buffer): Pairs {
  const out: Pairs = [];
  for (let o = 0; o < b.length;) {
    const fl = b.readUInt32LE(o);
    const vl = b.readUInt32LE(o + 4);
    out.push([b.subarray(o + 8, o + 8 + fl), b.subarray(o + 8 + fl, o + 8 + fl + vl)]);
    o += 8 + fl + vl;
  }
  return out;
}
function merge(pairs: Pairs, set: Pairs): Pairs {
  const out = pairs.map(([f, v]) => [f, v] as [Buffer, Buffer]);
  for (const [f, v] of set) {
    const at = out.find((p) => p[0].equals(f));
    if (at) at[1] = v;
    else out.push([f, v]);
  }
  return out;
}

interface Sql {
  all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params: unknown[]): Promise<void>;
  exec(sql: string): Promise<void>;
}

interface Layout {
  name: string;
  read(db: Sql, k: string, now: number): Promise<Pairs | null>;
  write(db: Sql, k: string, pairs: Pairs, expiry: number): Promise<void>;
  fill(db: Sql): Promise<void>;
}

function layouts(pg: boolean): Layout[] {
  const E = pg ? `(timestamptz 'epoch' + ?::bigint * interval '1 millisecond')` : '?';
  const live = (a: string) => `(${a}.expiry IS NULL OR ${a}.expiry > ${E})`;
  const fieldTable: Layout = {
    name: '(a) field table',
    async fill(db) {
      for (let i = 0; i < SESSIONS; i++) {
        await db.run(`INSERT INTO sessions (token, data, expiry, type) VALUES (?, ?, NULL, 'hash')`, [key(i), Buffer.alloc(8)]);
        let seq = 1;
        for (const [f, v] of initial())
          await db.run(`INSERT INTO sessions_hash_fields (token, seq, field, value) VALUES (?, ?, ?, ?)`, [key(i), seq++, f, v]);
      }
    },
    async read(db, k, now) {
      const rows = await db.all(
        `SELECT k.type AS type, h.field AS field, h.value AS value FROM sessions k LEFT JOIN sessions_hash_fields h ON h.token = k.token WHERE k.token = ? AND ${live('k')} ORDER BY h.seq`,
        [k, now],
      );
      return rows.length ? rows.map((r) => [r.field as Buffer, r.value as Buffer]) : null;
    },
    async write(db, k, pairs, expiry) {
      await db.run(
        `INSERT INTO sessions (token, data, expiry, type) VALUES (?, ?, NULL, 'hash') ON CONFLICT (token) DO UPDATE SET data = excluded.data WHERE sessions.type = excluded.type`,
        [k, Buffer.alloc(8)],
      );
      for (const [f, v] of pairs) {
        await db.run(
          `INSERT INTO sessions_hash_fields (token, seq, field, value) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM sessions_hash_fields WHERE token = ?), ?, ?) ON CONFLICT (token, field) DO UPDATE SET value = excluded.value`,
          [k, k, f, v],
        );
      }
      await db.run(`UPDATE sessions SET expiry = ${E} WHERE token = ?`, [expiry, k]);
    },
  };
  const packed: Layout = {
    name: '(b) packed blob',
    async fill(db) {
      for (let i = 0; i < SESSIONS; i++)
        await db.run(`INSERT INTO sessions (token, data, expiry, type) VALUES (?, ?, NULL, 'hash')`, [key(i), pack(initial())]);
    },
    async read(db, k, now) {
      const rows = await db.all(`SELECT type, data FROM sessions WHERE token = ? AND ${live('sessions')}`, [k, now]);
      return rows.length ? unpack(rows[0].data as Buffer) : null;
    },
    async write(db, k, pairs, expiry) {
      const rows = await db.all(`SELECT data FROM sessions WHERE token = ?${pg ? ' FOR UPDATE' : ''}`, [k]);
      const next = pack(merge(rows.length ? unpack(rows[0].data as Buffer) : [], pairs));
      await db.run(`UPDATE sessions SET data = ?, expiry = ${E} WHERE token = ?`, [next, expiry, k]);
    },
  };
  // (a) read as one row: each field's and value's length, and all of them concatenated (one buffer
  // to allocate, not two per field: better-sqlite3 allocates one per value read).
  const fieldTableOneRow: Layout = {
    ...fieldTable,
    name: "(a') field table, read as one row",
    async read(db, k, now) {
      const [row] = await db.all(
        `SELECT k.type AS type, json_group_array(length(h.field) ORDER BY h.seq) AS fl, json_group_array(length(h.value) ORDER BY h.seq) AS vl, ` +
          `CAST(group_concat(h.field || h.value, '' ORDER BY h.seq) AS BLOB) AS packed ` +
          `FROM sessions k LEFT JOIN sessions_hash_fields h ON h.token = k.token WHERE k.token = ? AND ${live('k')} GROUP BY k.token`,
        [k, now],
      );
      if (!row) return null;
      const fl = JSON.parse(row.fl as string) as number[];
      const vl = JSON.parse(row.vl as string) as number[];
      const b = row.packed as Buffer;
      const out: Pairs = [];
      for (let i = 0, o = 0; i < fl.length; i++) {
        out.push([b.subarray(o, o + fl[i]), b.subarray(o + fl[i], o + fl[i] + vl[i])]);
        o += fl[i] + vl[i];
      }
      return out;
    },
  };
  return pg ? [fieldTable, packed] : [fieldTable, fieldTableOneRow, packed];
}

const SCHEMA = (pg: boolean) => [
  `CREATE TABLE sessions (token text PRIMARY KEY, data ${pg ? 'bytea' : 'blob'} NOT NULL, expiry ${pg ? 'timestamptz(3)' : 'bigint'}, type text)`,
  `CREATE TABLE sessions_hash_fields (token text NOT NULL, seq integer NOT NULL, field ${pg ? 'bytea' : 'blob'} NOT NULL, value ${pg ? 'bytea' : 'blob'} NOT NULL, PRIMARY KEY (token, seq))${pg ? '' : ' WITHOUT ROWID'}`,
  `CREATE UNIQUE INDEX sessions_hash_fields_field_idx ON sessions_hash_fields (token, field)`,
];

async function measure(db: Sql, layout: Layout, op: 'read' | 'write'): Promise<number> {
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    await db.exec(op === 'read' ? 'BEGIN' : 'BEGIN');
    for (let i = 0; i < BATCH; i++) {
      const k = key(Math.floor(Math.random() * SESSIONS));
      if (op === 'read') await layout.read(db, k, Date.now());
      else await layout.write(db, k, saved(), Date.now() + 1_800_000);
    }
    await db.exec('COMMIT');
    done += BATCH;
  }
  return done / ((performance.now() - started) / 1000);
}

function sqliteDb(file: string): Sql {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const cache = new Map<string, Database.Statement>();
  const prep = (s: string) => cache.get(s) ?? (cache.set(s, db.prepare(s)), cache.get(s)!);
  return {
    // better-sqlite3 is synchronous; the promises keep one interface with pg.
    all: (s, p) => Promise.resolve(prep(s).all(...p) as Record<string, unknown>[]),
    run: (s, p) => Promise.resolve(void prep(s).run(...p)),
    exec: (s) => Promise.resolve(void db.exec(s)),
  };
}

async function pgDb(url: string): Promise<Sql & { end(): Promise<void> }> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const names = new Map<string, string>();
  const q = (s: string, p: unknown[]) => {
    let n = 0;
    const text = s.replace(/\?/g, () => `$${++n}`);
    if (!names.has(s)) names.set(s, `ab_${names.size}`);
    return c.query({ name: names.get(s), text, values: p });
  };
  return {
    async all(s, p) {
      return (await q(s, p)).rows as Record<string, unknown>[];
    },
    async run(s, p) {
      await q(s, p);
    },
    async exec(s) {
      await c.query(s);
    },
    end: () => c.end(),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typed-ab-'));
  console.log(`${SESSIONS} sessions of 4 fields (one of 1 KB), transactions of ${BATCH}, ${SECONDS} s per figure; ops/s`);
  console.log('| backend | layout | HGETALL | HSET 2 fields + EXPIRE |');
  console.log('|---|---|---|---|');
  try {
    for (const backend of ['SQLite', 'PostgreSQL'] as const) {
      for (const layout of layouts(backend === 'PostgreSQL')) {
        let db: Sql & { end?(): Promise<void> };
        if (backend === 'SQLite') db = sqliteDb(path.join(dir, `${layout.name.replace(/\W/g, '')}.sqlite`));
        else db = await pgDb(await freshDatabase());
        for (const s of SCHEMA(backend === 'PostgreSQL')) await db.exec(s);
        await db.exec('BEGIN');
        await layout.fill(db);
        await db.exec('COMMIT');
        await db.exec('ANALYZE');
        const read = await measure(db, layout, 'read');
        const write = await measure(db, layout, 'write');
        console.log(
          `| ${backend} | ${layout.name} | ${Math.round(read).toLocaleString('en-US')} | ${Math.round(write).toLocaleString('en-US')} |`,
        );
        await db.end?.();
      }
    }
  } finally {
    await stopSharedPostgres();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
