/**
 * On PostgreSQL every statement with parameters goes as a named prepared statement, parsed
 * and planned once per connection. The server must keep answering when the table changes
 * under it (PostgreSQL re-plans a prepared statement whose table changed).
 */
import { expect } from 'chai';
import { RawClient, toStrings } from '../support/resp-client';
import { startRespql, type RunningRespql } from '../support/respql';

describe('prepared statements on postgres', function () {
  this.timeout(30_000);
  let respql: RunningRespql;
  let client: RawClient;

  before(async function () {
    respql = await startRespql('postgres');
    client = await RawClient.connect(respql.port);
  });
  after(async function () {
    await client?.close();
    await respql?.stop();
  });

  it('prepares the GET and SET statements once on the connection that serves them', async function () {
    expect(toStrings(await client.send('SET', 'k', 'v1'))).to.equal('OK');
    expect(toStrings(await client.send('GET', 'k'))).to.equal('v1');
    expect(toStrings(await client.send('GET', 'k'))).to.equal('v1');
    // The pool holds one connection (one batch at a time, no sweeper): the query below gets it.
    const { rows } = await respql.server.engine.knex.raw('SELECT name, statement FROM pg_prepared_statements WHERE NOT from_sql');
    const texts = (rows as { statement: string }[]).map((r) => r.statement);
    expect(texts).to.include(
      "SELECT CASE WHEN (expiry IS NULL OR expiry > (timestamptz 'epoch' + $1::bigint * interval '1 millisecond')) THEN data END AS data, type, (extract(epoch from expiry) * 1000)::bigint AS expiry_ms FROM \"sessions\" WHERE token = $2",
    );
    expect(texts.some((t) => t.startsWith('INSERT INTO "sessions" (token, data, expiry) VALUES ($1, $2,'))).to.equal(true);
    // One name per text: the GET run twice was prepared once.
    expect(new Set(texts).size).to.equal(texts.length);
  });

  it('keeps answering after the table changes under its prepared statements', async function () {
    await respql.server.engine.knex.raw('ALTER TABLE sessions ADD COLUMN note text');
    expect(toStrings(await client.send('GET', 'k'))).to.equal('v1');
    expect(toStrings(await client.send('SET', 'k', 'v2'))).to.equal('OK');
    expect(toStrings(await client.send('GET', 'k'))).to.equal('v2');
    await respql.server.engine.knex.raw('ALTER TABLE sessions DROP COLUMN note');
    expect(toStrings(await client.send('MGET', 'k', 'none'))).to.deep.equal(['v2', null]);
  });
});
