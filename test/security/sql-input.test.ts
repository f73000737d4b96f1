/**
 * No client input reaches SQL as text. Keys, values and SCAN/KEYS patterns are bound
 * parameters; the one piece of a pattern that shapes a query, its literal prefix, goes
 * through likePrefix() (LIKE ... ESCAPE '\'), tested here on its own and in the database.
 *
 * Then a property test: hostile keys (quotes, backslashes, LIKE and glob metacharacters,
 * SQL comments and statements, unicode) and hostile patterns go through SET/GET/EXISTS/DEL/
 * RENAME/KEYS/SCAN MATCH on both backends. Every reply must equal redis-server's for the same
 * script, KEYS and SCAN must equal a reference port of Redis's stringmatchlen() applied to the
 * keys written, and afterwards the table must hold exactly the expected rows (and the
 * database exactly the tables it had).
 *
 * Reproduce a run with RESPQL_PROPERTY_SEED=<seed printed in the test title's output>.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { dialectOf } from '../../src/store/dialect';
import { likePrefix } from '../../src/store/statements';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { redisStringMatch } from './glob-reference';
import { prng } from '../support/prng';

const FRAGMENTS = [
  '%',
  '_',
  "'",
  "''",
  '"',
  '\\',
  '\\\\',
  ';',
  '--',
  '/*',
  '*/',
  '*',
  '?',
  '[',
  ']',
  '[^',
  '-',
  '^',
  '$1',
  ':name',
  '%s',
  '\\%',
  '\\_',
  "'; DROP TABLE sessions; --",
  '" OR 1=1 --',
  "') OR ('1'='1",
  'sessions',
  'token',
  ' ',
  '\t',
  '\n',
  '\r\n',
  'é',
  'ü',
  '中文',
  '😀',
  'a',
  'b',
  'Z',
  '0',
  '9',
];
const FIXED_KEYS = [
  "'; DROP TABLE sessions; --",
  'sess:%',
  'sess:_',
  'sess:\\',
  'sess:\\%',
  "it's",
  'a"b',
  'x;y',
  '--',
  '*',
  '?',
  '[',
  ']',
  '[a-z]',
  '\\*',
  'sess:*',
  'ünïcödé',
  '😀key',
  '',
  ' ',
  'SESS:a',
  'sess:a',
  'sess:aa',
  'sess:b%',
  'sess:b_c',
  'sess:bXc',
  '%%',
  '__',
];

describe('likePrefix: the one function that escapes client text for SQL', () => {
  it('escapes \\, % and _ and appends %', () => {
    expect(likePrefix('')).to.equal('%');
    expect(likePrefix('sess:')).to.equal('sess:%');
    expect(likePrefix('a%b_c\\d')).to.equal('a\\%b\\_c\\\\d%');
    expect(likePrefix("'; DROP TABLE sessions; --")).to.equal("'; DROP TABLE sessions; --%");
    expect(likePrefix('\\%_')).to.equal('\\\\\\%\\_%');
  });

  for (const backend of BACKENDS) {
    it(`in ${backend}, LIKE likePrefix(p) matches exactly the strings that start with p`, async () => {
      const respql = await startRespql(backend);
      try {
        const knex = respql.server.engine.knex;
        const prefixes = ['', 'a', '%', '_', '\\', 'a%', 'a_b', 'x\\%', '\\\\', "'", "';--", 'é', '😀', 'sess:'];
        const candidates = [
          '',
          'a',
          'A',
          'ab',
          'a%',
          'a%b',
          'aXb',
          'a_b',
          '%',
          '_',
          'x',
          '\\',
          '\\\\',
          'x\\%',
          'x\\a',
          'x%',
          "'",
          "';-- x",
          'é',
          'É',
          '😀!',
          'sess:1',
          'SESS:1',
        ];
        for (const p of prefixes) {
          for (const c of candidates) {
            // The dialect's own LIKE on the token column.
            const sql = `SELECT CASE WHEN ${dialectOf(knex).likeToken('?')} THEN 1 ELSE 0 END AS m`;
            const rows = (await knex.raw(sql, [c, likePrefix(p)])) as unknown;
            // knex.raw's result: SQLite's rows, mysql2's [rows, fields], pg's { rows }.
            const first = Array.isArray(rows)
              ? Array.isArray(rows[0])
                ? rows[0][0]
                : rows[0]
              : (rows as { rows: { m: unknown }[] }).rows[0];
            const m = Number((first as { m: unknown }).m);
            // SQLite's LIKE ignores ASCII case: the prefix only narrows, the glob decides.
            const fold = (s: string) => (backend === 'sqlite' ? s.replace(/[A-Z]/g, (ch) => ch.toLowerCase()) : s);
            expect(m, `${JSON.stringify(c)} LIKE likePrefix(${JSON.stringify(p)})`).to.equal(fold(c).startsWith(fold(p)) ? 1 : 0);
          }
        }
      } finally {
        await respql.stop();
      }
    });
  }
});

describe('redisStringMatch (the reference) agrees with redis-server on tricky patterns', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedisServer()));
  after(async () => redis.stop());

  it('KEYS on a fixed set of keys and patterns', async () => {
    const client = await RawClient.connect(redis.port);
    try {
      for (const k of FIXED_KEYS) await client.send('SET', k, 'v');
      for (const pattern of [
        '**',
        '*',
        '?',
        '[',
        '[]',
        '[]]',
        '[^]',
        '[a-',
        '[a-]',
        '\\',
        'sess:\\',
        'sess:[\\%]',
        '[z-a]*',
        '*[',
        '*\\',
        'sess:?',
        '[^s]*',
        '*%*',
        '*_',
        '\\*',
        '?*?',
      ]) {
        const got = (toStrings(await client.send('KEYS', pattern)) as string[]).sort();
        const expected = (pattern === '*' ? FIXED_KEYS : FIXED_KEYS.filter((k) => redisStringMatch(Buffer.from(pattern), Buffer.from(k))))
          .slice()
          .sort();
        expect(got, `KEYS ${pattern}`).to.deep.equal(expected);
      }
    } finally {
      await client.close();
    }
  });
});

interface Step {
  argv: string[];
  /** KEYS replies are unordered: compared sorted. */
  sort?: boolean;
}

for (const backend of BACKENDS) {
  describe(`hostile keys and patterns through SQL (${backend})`, function () {
    this.timeout(120_000);
    let redis: RedisServer;
    let respql: RunningRespql;
    before(async () => {
      [redis, respql] = await Promise.all([startRedisServer({ args: ['--databases', '1'] }), startRespql(backend)]);
    });
    after(async () => Promise.all([redis?.stop(), respql?.stop()]));

    it("replies equal redis-server's, KEYS/SCAN equal the reference, and the table holds exactly the expected rows", async () => {
      const seed = Number(process.env.RESPQL_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const r = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
      const hostile = () => Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(FRAGMENTS)).join('');
      const keys = [...new Set([...FIXED_KEYS, ...Array.from({ length: 120 }, hostile)])];
      const knex = respql.server.engine.knex;
      const tables = () => listTables(knex, backend);
      const tablesBefore = await tables();

      // The model: what the keyspace must hold.
      const model = new Map<string, string>();
      const steps: Step[] = [];
      for (const k of keys) {
        const v = `${k}|${hostile()}`;
        steps.push({ argv: ['SET', k, v] }, { argv: ['GET', k] });
        model.set(k, v);
      }
      steps.push({ argv: ['EXISTS', ...keys.slice(0, 20)] });
      for (let i = 0; i < 25; i++) {
        const k = pick([...model.keys()]);
        steps.push({ argv: ['DEL', k, `missing:${hostile()}`] });
        model.delete(k);
      }
      for (let i = 0; i < 15; i++) {
        const from = pick([...model.keys()]);
        const to = `renamed:${hostile()}`;
        steps.push({ argv: ['RENAME', from, to] }, { argv: ['GET', to] }, { argv: ['GET', from] });
        const v = model.get(from)!;
        model.delete(from);
        model.set(to, v);
      }
      const live = [...model.keys()];
      // Patterns: literal prefixes (the LIKE path), glob classes and escapes built from hostile text.
      const patterns = new Set<string>([
        '*',
        '**',
        '?',
        'sess:*',
        'sess:\\%',
        'sess:[%_]',
        "'*",
        '*--*',
        '*;*',
        'renamed:*',
        '*\\*',
        '[',
        '\\',
      ]);
      for (let i = 0; i < 60; i++) {
        const k = pick(live);
        const cut = Math.floor(r() * (k.length + 1));
        patterns.add(k.slice(0, cut) + pick(['*', '?*', '', '[^a]*', '*' + pick(FRAGMENTS)]));
        patterns.add(hostile() + '*');
        patterns.add(k.replace(/[*?[\]\\]/g, (c) => '\\' + c)); // the key itself, escaped: matches exactly it
      }
      for (const p of patterns) steps.push({ argv: ['KEYS', p], sort: true });

      const [expectedReplies, actualReplies] = await Promise.all([runSteps(redis.port, steps), runSteps(respql.port, steps)]);
      for (let i = 0; i < steps.length; i++) {
        expect(actualReplies[i], `${steps[i].argv.map((a) => JSON.stringify(a)).join(' ')} (seed ${seed})`).to.deep.equal(
          expectedReplies[i],
        );
      }

      // KEYS and a full SCAN MATCH iteration equal the reference applied to the model.
      const client = await RawClient.connect(respql.port);
      try {
        for (const p of patterns) {
          const expected = live.filter((k) => p === '*' || redisStringMatch(Buffer.from(p), Buffer.from(k))).sort();
          const viaKeys = (toStrings(await client.send('KEYS', p)) as string[]).sort();
          expect(viaKeys, `KEYS ${JSON.stringify(p)} (seed ${seed})`).to.deep.equal(expected);
          const viaScan = new Set<string>();
          let cursor = '0';
          do {
            const [next, batch] = toStrings(await client.send('SCAN', cursor, 'MATCH', p, 'COUNT', '7')) as [string, string[]];
            batch.forEach((k) => viaScan.add(k));
            cursor = next;
          } while (cursor !== '0');
          expect([...viaScan].sort(), `SCAN MATCH ${JSON.stringify(p)} (seed ${seed})`).to.deep.equal(expected);
        }
      } finally {
        await client.close();
      }

      // The table, read directly: exactly the model's rows, and no table gained or lost.
      const rows = await knex<{ token: string; data: Buffer }>('sessions').select('token', 'data');
      expect(new Map(rows.map((row) => [row.token, Buffer.from(row.data).toString('utf8')]))).to.deep.equal(model);
      expect(await tables()).to.deep.equal(tablesBefore);
      console.log(
        `      seed ${seed}: ${keys.length} hostile keys, ${patterns.size} patterns, ${steps.length} commands, ${rows.length} rows after`,
      );
    });
  });
}

async function runSteps(port: number, steps: Step[]): Promise<unknown[]> {
  const client = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    for (const step of steps) {
      const reply = toStrings(await client.send(...step.argv));
      out.push(step.sort && Array.isArray(reply) ? [...(reply as string[])].sort() : reply);
    }
    return out;
  } finally {
    await client.close();
  }
}

async function listTables(knex: Knex, backend: string): Promise<string[]> {
  if (backend === 'sqlite') {
    const rows = await knex.raw<{ name: string }[]>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`);
    return rows.map((row) => row.name);
  }
  if (backend === 'mariadb') {
    const [rows] = await knex.raw<[{ tablename: string }[]]>(
      `SELECT table_name AS tablename FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`,
    );
    return rows.map((row) => row.tablename);
  }
  const result = await knex.raw<{ rows: { tablename: string }[] }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  return result.rows.map((row) => row.tablename);
}
