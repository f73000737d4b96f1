/**
 * The script cache and the function libraries in the database (`<table>_scripts`), so that a
 * SCRIPT LOAD or FUNCTION LOAD through one respql instance is callable through every instance
 * on the same database, and survives restarts. Rows: kind ('script' by sha, 'library' by name)
 * and the body. Plain SQL that SQLite and PostgreSQL share.
 */
import type { Knex } from 'knex';
import type { Dialect, SqlConnection } from './dialect';

/** What the database keeps for scripting; part of the Store, inside its transaction. */
export interface ScriptTable {
  getScript(sha: string): Promise<Buffer | null>;
  /** Inserts the script unless the sha is there already. */
  putScript(sha: string, body: Buffer): Promise<void>;
  /** Which of the shas the table has. */
  hasScripts(shas: string[]): Promise<boolean[]>;
  flushScripts(): Promise<void>;
  /** Every function library: name and code. */
  libraries(): Promise<{ name: string; code: Buffer }[]>;
  putLibrary(name: string, code: Buffer): Promise<void>;
  deleteLibrary(name: string): Promise<boolean>;
  flushLibraries(): Promise<void>;
}

export const scriptsTable = (table: string): string => `${table}_scripts`;

export async function createScriptsTable(knex: Knex, table: string, dialect: Dialect): Promise<void> {
  await knex.schema.createTable(scriptsTable(table), (t) => {
    // MariaDB keys only on columns of bounded length, compared byte for byte.
    const text = (name: string, length: number) =>
      dialect.name === 'mariadb' ? t.string(name, length).collate('utf8mb4_nopad_bin') : t.text(name);
    text('kind', 16).notNullable();
    text('name', 700).notNullable();
    t.binary('body').notNullable();
    t.primary(['kind', 'name']);
  });
}

export function scriptStatements(table: string, d: Dialect) {
  const s = `"${scriptsTable(table).replace(/"/g, '""')}"`;
  return {
    getScript: `SELECT body FROM ${s} WHERE kind = 'script' AND name = ?`,
    putScript: `INSERT INTO ${s} (kind, name, body) VALUES ('script', ?, ?) ${d.onConflict('kind, name', null)}`,
    hasScripts: (n: number) => `SELECT name FROM ${s} WHERE kind = 'script' AND name IN (${new Array(n).fill('?').join(', ')})`,
    flushScripts: `DELETE FROM ${s} WHERE kind = 'script'`,
    libraries: `SELECT name, body FROM ${s} WHERE kind = 'library' ORDER BY name`,
    putLibrary: `INSERT INTO ${s} (kind, name, body) VALUES ('library', ?, ?) ${d.onConflict('kind, name', (x) => ({ set: { body: x('body') } }))}`,
    deleteLibrary: `DELETE FROM ${s} WHERE kind = 'library' AND name = ?`,
    flushLibraries: `DELETE FROM ${s} WHERE kind = 'library'`,
  };
}
export type ScriptStatements = ReturnType<typeof scriptStatements>;

const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

/** ScriptTable over one connection, inside the caller's transaction. */
export function sqlScriptTable(conn: SqlConnection, sql: ScriptStatements): ScriptTable {
  return {
    async getScript(sha) {
      const rows = await conn.all(sql.getScript, [sha]);
      return rows.length ? toBuffer(rows[0].body) : null;
    },
    async putScript(sha, body) {
      await conn.run(sql.putScript, [sha, body]);
    },
    async hasScripts(shas) {
      const found = new Set<string>();
      for (let i = 0; i < shas.length; i += 500) {
        const part = shas.slice(i, i + 500);
        for (const row of await conn.all(sql.hasScripts(part.length), part)) found.add(String(row.name));
      }
      return shas.map((s) => found.has(s));
    },
    async flushScripts() {
      await conn.run(sql.flushScripts, []);
    },
    async libraries() {
      return (await conn.all(sql.libraries, [])).map((r) => ({ name: String(r.name), code: toBuffer(r.body) }));
    },
    async putLibrary(name, code) {
      await conn.run(sql.putLibrary, [name, code]);
    },
    async deleteLibrary(name) {
      return (await conn.run(sql.deleteLibrary, [name])) > 0;
    },
    async flushLibraries() {
      await conn.run(sql.flushLibraries, []);
    },
  };
}
