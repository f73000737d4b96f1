/**
 * Batches the database undid whole run again (PostgreSQL): serialization failures (40001) and
 * deadlocks (40P01), as a distributed SQL database (CockroachDB, YugabyteDB) raises them all the
 * time. The failures are real ones, raised by PostgreSQL: a trigger that fails every third
 * writing transaction, and SERIALIZABLE transactions of two instances on one counter. Clients
 * see no error, every acknowledged write is there once (INCR counts exactly, APPEND in order),
 * and INFO respql counts the retries (sql_retries).
 */
import { expect } from 'chai';
import { Client } from 'pg';
import { freshDatabase } from '../support/postgres';
import { isErrorReply, RawClient, toStrings } from '../support/resp-client';
import { startRespql, type RunningRespql } from '../support/respql';
import { info } from '../scaleout/helpers';

async function sql(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Makes every third transaction that writes to `sessions` fail at its first write with `code`:
 * one decision per transaction (a transaction-local flag), so a retried batch can get through
 * however many statements it has; the sequence is not transactional, so the schedule moves on.
 */
function injectFailures(code: string): string {
  return `
    CREATE SEQUENCE inject_seq;
    CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('respql_test.decided', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('respql_test.decided', 'yes', true);
        IF nextval('inject_seq') % 3 = 0 THEN
          RAISE EXCEPTION 'injected failure' USING ERRCODE = '${code}';
        END IF;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER inject AFTER INSERT OR UPDATE OR DELETE ON sessions
      FOR EACH STATEMENT EXECUTE FUNCTION inject_failure();`;
}

/** Clients INCRing one shared counter and APPENDing to keys of their own, pipelined: what they were told. */
async function incrAndAppend(ports: number[], clientsPerPort: number, rounds: number) {
  const errors: string[] = [];
  let increments = 0;
  const appended = new Map<string, string>();
  const clients = await Promise.all(ports.flatMap((port) => Array.from({ length: clientsPerPort }, () => RawClient.connect(port))));
  await Promise.all(
    clients.map(async (c, n) => {
      const key = `log:${n}`;
      appended.set(key, '');
      for (let i = 0; i < rounds; i++) {
        const piece = `${i},`;
        const replies = await Promise.all([
          c.send('INCR', 'counter'),
          c.send('APPEND', key, piece),
          c.send('SET', `plain:${n}`, String(i)),
        ]);
        for (const reply of replies) if (isErrorReply(reply)) errors.push(reply.error);
        if (!isErrorReply(replies[0])) increments++;
        if (!isErrorReply(replies[1])) appended.set(key, appended.get(key)! + piece);
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  return { errors, increments, appended };
}

describe('batches the database undid run again (PostgreSQL)', function () {
  this.timeout(60_000);
  const running: RunningRespql[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });

  async function start(databaseUrl: string): Promise<RunningRespql> {
    const r = await startRespql('postgres', { databaseUrl, poolSize: 4 });
    running.push(r);
    return r;
  }

  async function expectAllThere(port: number, result: Awaited<ReturnType<typeof incrAndAppend>>): Promise<void> {
    const client = await RawClient.connect(port);
    try {
      expect(toStrings(await client.send('GET', 'counter'))).to.equal(String(result.increments));
      for (const [key, value] of result.appended) expect(toStrings(await client.send('GET', key)), key).to.equal(value);
    } finally {
      await client.close();
    }
  }

  for (const [code, name] of [
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
  ]) {
    it(`retries every batch failed with ${code} (${name}, raised by a trigger), applying each write once`, async function () {
      const db = await freshDatabase();
      const respql = await start(db);
      await sql(db, injectFailures(code));
      const result = await incrAndAppend([respql.port], 6, 30);
      expect(result.errors).to.deep.equal([]);
      await expectAllThere(respql.port, result);
      expect(Number((await info(respql.port)).sql_retries)).to.be.greaterThan(0);
    });
  }

  it('serves two instances on a SERIALIZABLE database: conflicts retried, no update lost', async function () {
    const db = await freshDatabase();
    await sql(db, `ALTER DATABASE "${new URL(db).pathname.slice(1)}" SET default_transaction_isolation = serializable`);
    const [a, b] = [await start(db), await start(db)];
    const result = await incrAndAppend([a.port, b.port], 4, 30);
    expect(result.errors).to.deep.equal([]);
    await expectAllThere(a.port, result);
    const retries = Number((await info(a.port)).sql_retries) + Number((await info(b.port)).sql_retries);
    expect(retries).to.be.greaterThan(0);
  });
});
