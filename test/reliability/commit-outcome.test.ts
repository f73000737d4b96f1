/**
 * What a client sees when the database connection is cut during a write (PostgreSQL), at each
 * moment a failover can cut it (test/support/pg-cut-proxy.ts cuts at an exact protocol message):
 * mid-transaction, with COMMIT never arriving, and after COMMIT ran but before its answer came
 * back, for a transaction (INCR) and for an autocommitted statement (a lone SET).
 *
 * The promise in every case: the client gets an error reply, never OK; the write was applied at
 * most once (an INCR by one, not two: no silent retry); the cut connection is discarded and the
 * next command works.
 */
import { expect } from 'chai';
import { freshDatabase } from '../support/postgres';
import { PgCutProxy, type CutPlan } from '../support/pg-cut-proxy';
import { isErrorReply, RawClient } from '../support/resp-client';
import { createServer, type RespqlServer } from '../../src';
import { info } from '../scaleout/helpers';

describe('a database connection cut during a write (postgres)', function () {
  this.timeout(30_000);
  let proxy: PgCutProxy;
  let server: RespqlServer;
  let client: RawClient;
  let port: number;

  before(async () => {
    const url = new URL(await freshDatabase());
    proxy = new PgCutProxy(Number(url.port));
    url.port = String(await proxy.listen());
    // One connection: the cut one must be replaced for the next command to work.
    server = createServer({ databaseUrl: url.toString(), port: 0, cleanupIntervalMs: 0, poolSize: 1, databaseTimeoutMs: 3000 });
    port = (await server.listen()).port;
    client = await RawClient.connect(port);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    await proxy?.close();
  });

  /** Sends `argv` with the proxy armed to cut as `plan` says; returns the reply, which must be an error. */
  async function cutDuring(plan: Omit<CutPlan, 'marker'>, marker: string, ...argv: string[]): Promise<string> {
    const cutsBefore = proxy.cuts;
    proxy.arm({ ...plan, marker });
    const reply = await client.send(...argv);
    expect(proxy.cuts, 'the proxy cut the connection').to.equal(cutsBefore + 1);
    expect(isErrorReply(reply), `reply ${JSON.stringify(String(reply))}`).to.equal(true);
    return (reply as { error: string }).error;
  }

  const cases: { name: string; plan: Omit<CutPlan, 'marker'>; applied: boolean }[] = [
    { name: 'mid-transaction, before COMMIT', plan: { at: 'bind', delivered: false }, applied: false },
    { name: 'with COMMIT sent but never arriving', plan: { at: 'commit', delivered: false }, applied: false },
    { name: 'after COMMIT committed, its answer lost', plan: { at: 'commit', delivered: true }, applied: true },
  ];

  for (const { name, plan, applied } of cases) {
    it(`INCR (a transaction) cut ${name}: an error, applied ${applied ? 'once' : 'not at all'}, never retried`, async () => {
      const key = `counter:${plan.at}:${plan.delivered}`;
      expect(String(await client.send('SET', key, '10'))).to.equal('OK');
      const retries = (await info(port)).sql_retries;
      const error = await cutDuring(plan, key, 'INCR', key);
      expect(error).to.match(/^ERR database unavailable: /);
      expect(String(await client.send('GET', key))).to.equal(applied ? '11' : '10');
      expect((await info(port)).sql_retries).to.equal(retries);
      // The cut connection was discarded: the next write works on a new one.
      expect(await client.send('INCR', key)).to.equal(applied ? 12 : 11);
    });
  }

  for (const delivered of [false, true]) {
    it(`a lone SET (autocommitted) cut ${delivered ? 'after it committed, its answer lost' : 'before it arrived'}: an error, applied ${delivered ? 'once' : 'not at all'}`, async () => {
      const key = `plain:${delivered}`;
      expect(String(await client.send('SET', key, 'before'))).to.equal('OK');
      const error = await cutDuring({ at: 'sync', delivered }, key, 'SET', key, 'after');
      expect(error).to.match(/^ERR database unavailable: /);
      expect(String(await client.send('GET', key))).to.equal(delivered ? 'after' : 'before');
      expect(String(await client.send('SET', key, 'next'))).to.equal('OK');
    });
  }
});
