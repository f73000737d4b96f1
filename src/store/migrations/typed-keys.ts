import type { Knex } from 'knex';

/**
 * Migration 004: the typed key space. Each key keeps its row in the sessions table (name,
 * expiry); `type` says what it holds: NULL for a string (every existing row, and every row
 * written by the string commands, so queries on strings stay as they were), 'hash' or 'set'.
 * A hash's fields and a set's members live in tables of their own, one row each, and go
 * with their key's row: triggers delete them when the row is deleted (DEL, expiry sweep,
 * FLUSHDB, an SQL user's own DELETE) or turned into another type (SET over a hash), so that
 * no statement of the string hot path has to know about them.
 *
 * ADD COLUMN without a default is O(1) on both databases: a 1M-row table migrates in
 * milliseconds (BENCHMARKS.md).
 */
export function typedTables(table: string): { hash: string; set: string } {
  return { hash: `${table}_hash_fields`, set: `${table}_set_members` };
}

export async function up(knex: Knex, table: string, dialect: string): Promise<void> {
  const { hash, set } = typedTables(table);
  const t = `"${table}"`;
  const h = `"${hash}"`;
  const s = `"${set}"`;
  await knex.raw(`ALTER TABLE ${t} ADD COLUMN type text`);
  if (dialect === 'sqlite') {
    // Clustered by (token, seq): a key's fields are one range of the B-tree, in insertion order (as
    // Redis's listpack answers HGETALL), and seq is HSCAN's cursor; (token, field) finds one field.
    await knex.raw(
      `CREATE TABLE ${h} (token text NOT NULL, seq integer NOT NULL, field blob NOT NULL, value blob NOT NULL, PRIMARY KEY (token, seq)) WITHOUT ROWID`,
    );
    await knex.raw(`CREATE UNIQUE INDEX "${hash}_field_idx" ON ${h} (token, field)`);
    await knex.raw(
      `CREATE TABLE ${s} (token text NOT NULL, seq integer NOT NULL, member blob NOT NULL, PRIMARY KEY (token, seq)) WITHOUT ROWID`,
    );
    await knex.raw(`CREATE UNIQUE INDEX "${set}_member_idx" ON ${s} (token, member)`);
    const drop = `DELETE FROM ${h} WHERE token = old.token; DELETE FROM ${s} WHERE token = old.token;`;
    await knex.raw(`CREATE TRIGGER "${table}_typed_delete" AFTER DELETE ON ${t} WHEN old.type IS NOT NULL BEGIN ${drop} END`);
    await knex.raw(
      `CREATE TRIGGER "${table}_typed_retype" AFTER UPDATE OF type ON ${t} WHEN old.type IS NOT NULL AND new.type IS NOT old.type BEGIN ${drop} END`,
    );
    return;
  }
  if (dialect === 'mariadb') {
    await mariadbUp(knex, table);
    return;
  }
  await knex.raw(
    `CREATE TABLE ${h} (token text NOT NULL, seq integer NOT NULL, field bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (token, seq))`,
  );
  await knex.raw(`CREATE UNIQUE INDEX "${hash}_field_idx" ON ${h} (token, field)`);
  await knex.raw(`CREATE TABLE ${s} (token text NOT NULL, seq integer NOT NULL, member bytea NOT NULL, PRIMARY KEY (token, seq))`);
  await knex.raw(`CREATE UNIQUE INDEX "${set}_member_idx" ON ${s} (token, member)`);
  const fn = `"${table}_drop_members"`;
  await knex.raw(
    `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` +
      `DELETE FROM ${h} WHERE token = OLD.token; DELETE FROM ${s} WHERE token = OLD.token; RETURN NULL; END $$`,
  );
  // WHEN is tested before any function call: a string row's delete or update pays one comparison.
  await knex.raw(
    `CREATE TRIGGER "${table}_typed_delete" AFTER DELETE ON ${t} FOR EACH ROW WHEN (OLD.type IS NOT NULL) EXECUTE FUNCTION ${fn}()`,
  );
  await knex.raw(
    `CREATE TRIGGER "${table}_typed_retype" AFTER UPDATE OF type ON ${t} FOR EACH ROW ` +
      `WHEN (OLD.type IS NOT NULL AND NEW.type IS DISTINCT FROM OLD.type) EXECUTE FUNCTION ${fn}()`,
  );
}

/**
 * MariaDB: a field (member) is found by a stored SHA-256 of it, since InnoDB indexes at most
 * 3072 bytes of a key and fields are any length. A key's rows go with its row through a foreign
 * key (a trigger may not write a table its statement reads, as the sweep does); the retype
 * trigger drops them when a SET turns the key into a string.
 */
async function mariadbUp(knex: Knex, table: string): Promise<void> {
  const { hash, set } = typedTables(table);
  const token = `token ${MARIADB_TOKEN} NOT NULL`;
  const owned = (name: string) => `CONSTRAINT "${name}_key" FOREIGN KEY (token) REFERENCES "${table}" (token) ON DELETE CASCADE`;
  const digest = (column: string) => `${column}_hash BINARY(32) AS (UNHEX(SHA2(${column}, 256))) STORED`;
  await knex.raw(
    `CREATE TABLE "${hash}" (${token}, seq integer NOT NULL, field LONGBLOB NOT NULL, value LONGBLOB NOT NULL, ${digest('field')}, ` +
      `PRIMARY KEY (token, seq), UNIQUE KEY "${hash}_field_idx" (token, field_hash), ${owned(hash)}) ENGINE=InnoDB`,
  );
  await knex.raw(
    `CREATE TABLE "${set}" (${token}, seq integer NOT NULL, member LONGBLOB NOT NULL, ${digest('member')}, ` +
      `PRIMARY KEY (token, seq), UNIQUE KEY "${set}_member_idx" (token, member_hash), ${owned(set)}) ENGINE=InnoDB`,
  );
  await knex.raw(
    `CREATE TRIGGER "${table}_typed_retype" AFTER UPDATE ON "${table}" FOR EACH ROW ` +
      `BEGIN IF OLD.type IS NOT NULL AND NOT (NEW.type <=> OLD.type) THEN ` +
      `DELETE FROM "${hash}" WHERE token = OLD.token; DELETE FROM "${set}" WHERE token = OLD.token; END IF; END`,
  );
}

/** MariaDB's key column: text compared byte for byte, trailing spaces included, short enough for InnoDB's index (with seq). */
export const MARIADB_TOKEN = 'VARCHAR(750) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin';

export async function down(knex: Knex, table: string, dialect: string): Promise<void> {
  const { hash, set } = typedTables(table);
  await knex.raw(`DROP TRIGGER "${table}_typed_retype"${dialect === 'postgres' ? ` ON "${table}"` : ''}`);
  if (dialect !== 'mariadb') await knex.raw(`DROP TRIGGER "${table}_typed_delete"${dialect === 'postgres' ? ` ON "${table}"` : ''}`);
  if (dialect === 'postgres') await knex.raw(`DROP FUNCTION "${table}_drop_members"()`);
  await knex.raw(`DROP TABLE "${hash}"`);
  await knex.raw(`DROP TABLE "${set}"`);
  // Typed keys cannot be strings: they go with their tables.
  await knex.raw(`DELETE FROM "${table}" WHERE type IS NOT NULL`);
  await knex.raw(`ALTER TABLE "${table}" DROP COLUMN type`);
}
