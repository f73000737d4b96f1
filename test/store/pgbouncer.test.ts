/**
 * Behind PgBouncer in transaction pooling mode (Debian's 1.18): a client connection is lent a
 * server connection for one transaction only, so named prepared statements and session SETs
 * do not carry over. respql detects the pooler (--prepared-statements auto) and sends unnamed
 * statements, with its settings as SET LOCAL in every transaction.
 */
import { expect } from 'chai';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPgbouncer, type Pgbouncer } from '../support/pgbouncer';
import { freshDatabase, sharedPostgres } from '../support/postgres';
import { isErrorReply, RawClient, toStrings } from '../support/resp-client';
import { startRespql, type RunningRespql } from '../support/respql';
import type { PreparedStatements } from '../../src/store/dialect';

describe('behind PgBouncer in transaction mode', function () {
  this.timeout(60_000);
  let bouncer: Pgbouncer;
  const running: RunningRespql[] = [];

  before(async function () {
    // Fewer server connections than the two instances' pools: each client connection gets whichever is free.
    bouncer = await startPgbouncer((await sharedPostgres()).url, { poolSize: 2 });
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });
  after(async () => {
    await bouncer?.stop();
  });

  async function respqlThrough(databaseUrl: string, preparedStatements: PreparedStatements, table = 'sessions'): Promise<RunningRespql> {
    const r = await startRespql('postgres', { databaseUrl: bouncer.through(databaseUrl), preparedStatements, poolSize: 4, table });
    running.push(r);
    return r;
  }

  /** Instances, each with its own clients, INCRing shared counters and SETting keys: the replies that were errors. */
  async function load(instances: RunningRespql[], rounds: number): Promise<{ errors: string[]; counters: number }> {
    const errors: string[] = [];
    let counters = 0;
    const clients = await Promise.all(instances.flatMap((r) => [0, 1, 2, 3].map(() => RawClient.connect(r.port))));
    await Promise.all(
      clients.map(async (c, n) => {
        for (let i = 0; i < rounds; i++) {
          // Different statements in different orders on each client: the names each instance gives them differ.
          const commands =
            n % 2
              ? [
                  ['INCR', 'counter'],
                  ['SET', `k${n}`, String(i)],
                  ['GET', `k${n}`],
                  ['EXPIRE', `k${n}`, '100'],
                ]
              : [
                  ['SET', `k${n}`, String(i), 'EX', '100'],
                  ['MGET', `k${n}`, 'x'],
                  ['INCR', 'counter'],
                  ['TTL', `k${n}`],
                ];
          const replies = await Promise.all(commands.map((args) => c.send(...args)));
          counters++;
          for (const reply of replies) if (isErrorReply(reply)) errors.push(reply.error);
        }
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
    return { errors, counters };
  }

  it('serves three instances without an error, and every INCR counted once (auto detects the pooler)', async function () {
    const db = await freshDatabase();
    const [a, b, c] = [await respqlThrough(db, 'auto'), await respqlThrough(db, 'auto'), await respqlThrough(db, 'auto')];
    const { errors, counters } = await load([a, b, c], 30);
    expect(errors).to.deep.equal([]);
    const client = await RawClient.connect(a.port);
    expect(toStrings(await client.send('GET', 'counter'))).to.equal(String(counters));
    await client.close();
  });

  it('fails with named prepared statements forced on (the test can tell)', async function () {
    const db = await freshDatabase();
    const instances = [await respqlThrough(db, 'yes'), await respqlThrough(db, 'yes'), await respqlThrough(db, 'yes')];
    const { errors } = await load(instances, 30);
    // "prepared statement ... does not exist" or "... already exists": another server connection's.
    expect(errors.some((e) => /prepared statement/.test(e))).to.equal(true);
  });

  it("leaves no session setting behind on PgBouncer's server connections", async function () {
    const db = await freshDatabase();
    await load([await respqlThrough(db, 'auto', 'sessions')], 10);
    // Another client of PgBouncer, lent the same server connections.
    for (let i = 0; i < 4; i++) {
      const other = new Client({ connectionString: bouncer.through(db) });
      await other.connect();
      try {
        expect((await other.query('SHOW statement_timeout')).rows[0].statement_timeout).to.equal('0');
      } finally {
        await other.end();
      }
    }
  });

  it('has the database give up on a statement at --database-timeout (SET LOCAL in each transaction)', async function () {
    const db = await freshDatabase();
    const r = await startRespql('postgres', { databaseUrl: bouncer.through(db), databaseTimeoutMs: 1000, poolSize: 2 });
    running.push(r);
    const client = await RawClient.connect(r.port);
    expect(toStrings(await client.send('SET', 'locked', '1'))).to.equal('OK');
    // A direct session holds the row lock that INCR's read-modify-write waits for.
    const holder = new Client({ connectionString: db });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM sessions WHERE token = 'locked' FOR UPDATE`);
      const reply = await client.send('INCR', 'locked');
      expect(isErrorReply(reply) && reply.error).to.match(/database unavailable/);
      // respql cut its connection; PostgreSQL's own statement_timeout ends the wait on the server.
      const waiting = async () =>
        Number(
          (await holder.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
            .rows[0].n,
        );
      const deadline = Date.now() + 5000;
      while ((await waiting()) > 0 && Date.now() < deadline) await sleep(100);
      expect(await waiting()).to.equal(0);
      await holder.query('ROLLBACK');
      expect(toStrings(await client.send('INCR', 'locked'))).to.equal(2);
    } finally {
      await holder.end();
      await client.close();
    }
  });
});
