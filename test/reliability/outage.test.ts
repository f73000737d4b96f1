/**
 * Database outage (PostgreSQL): respql, under a write load, on a cluster of the test's own
 * that the test stops (pg_ctl) or freezes (SIGSTOP: a database that hangs instead of
 * refusing). respql stays up and keeps accepting connections; commands answer
 * `-ERR database unavailable: ...` within the bound; within 5 s of the database coming back
 * it serves normally; and no acknowledged write is lost.
 */
import { expect } from 'chai';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type PostgresCluster } from '../support/postgres';
import { isErrorReply, RawClient, type Reply } from '../support/resp-client';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { WriteLoad } from './load';

const TIMEOUT_MS = 2000;
/** Scheduling slack on a busy shared machine: a reply may come this much after the bound. */
const SLACK_MS = 3000;
const RECOVERY_MS = 5000;

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Sends one command on a new connection; returns the reply and how long it took. */
async function timed(port: number, ...args: string[]): Promise<{ reply: Reply; ms: number }> {
  const client = await RawClient.connect(port);
  try {
    const started = performance.now();
    const reply = await client.send(...args);
    return { reply, ms: performance.now() - started };
  } finally {
    await client.destroy();
  }
}

/** Milliseconds from now until a SET through respql succeeds. */
async function timeToRecover(port: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; ; i++) {
    const { reply } = await timed(port, 'SET', 'outage:probe', String(i));
    if (!isErrorReply(reply)) return performance.now() - started;
    if (performance.now() - started > 30_000) throw new Error(`respql still failing 30 s after the database came back: ${reply.error}`);
    await sleep(100);
  }
}

describe('database outage (PostgreSQL, a cluster of its own)', () => {
  let cluster: PostgresCluster;
  let respql: RespqlProcess | undefined;

  before(async function () {
    this.timeout(120_000);
    cluster = await startCluster();
  });
  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });
  afterEach(async () => {
    if (respql && respql.proc.exitCode === null && respql.proc.signalCode === null) await respql.kill9();
    respql = undefined;
  });

  /** Runs the load, takes the database away with `down`, brings it back with `up`, and checks all the promises. */
  async function outage(table: string, down: () => Promise<void> | void, up: () => Promise<void> | void): Promise<string> {
    // Two connections: cut ones must be given back to the pool for it to serve again.
    respql = await spawnRespql([
      '--database-url',
      cluster.url,
      '--table',
      table,
      '--database-timeout',
      `${TIMEOUT_MS}ms`,
      '--pool-size',
      '2',
      '--cleanup-interval',
      '0',
    ]);
    const load = new WriteLoad(20);
    await load.start(respql.port);
    await waitFor('acknowledged writes before the outage', () => load.acknowledged >= 100);

    await down();
    // Commands fail, and fail in time; new connections are accepted and answered.
    // At least two rounds of errors for every client: the outage outlasts the bound.
    await waitFor('error replies from the load', () => load.errors.length >= 2 * load.clients);
    const during = await timed(respql.port, 'SET', 'outage:new-connection', 'x');
    expect(during.reply)
      .to.have.property('error')
      .that.matches(/^ERR database unavailable: /);
    expect(during.ms, "a new connection's SET during the outage, ms").to.be.below(TIMEOUT_MS + SLACK_MS);
    expect((await timed(respql.port, 'PING')).reply?.toString()).to.equal('PONG');
    const errorsDuring = load.errors.length;

    await up();
    const recoveredMs = await timeToRecover(respql.port);
    expect(recoveredMs, 'ms from the database being back to a successful SET').to.be.below(RECOVERY_MS);
    const ackedAfter = load.acknowledged;
    await waitFor('the load to be acknowledged again', () => load.acknowledged >= ackedAfter + 100);
    await load.stop();

    for (const e of load.errors) expect(e.text).to.match(/^ERR database unavailable: /);
    const slowest = Math.max(...load.errors.map((e) => e.ms));
    expect(slowest, 'slowest error reply, ms').to.be.below(TIMEOUT_MS + SLACK_MS);
    const check = await load.check(respql.port);
    expect(check.violations).to.deep.equal([]);
    expect(respql.proc.exitCode, 'respql still running').to.equal(null);
    const info = (await timed(respql.port, 'INFO', 'respql')).reply!.toString();
    expect(await respql.stop()).to.equal(0);
    return (
      `${load.acknowledged} acknowledged writes all present; ${errorsDuring} error replies during the outage, ` +
      `slowest ${Math.round(slowest)} ms (bound ${TIMEOUT_MS} ms); serving again ${Math.round(recoveredMs)} ms after the database was back; ` +
      `sql_timeouts ${/sql_timeouts:(\d+)/.exec(info)?.[1]}`
    );
  }

  it('pg_ctl stop under load: -ERR "database unavailable" in time, connections still accepted, serving within 5 s of the restart, nothing acknowledged lost', async function () {
    this.timeout(120_000);
    const summary = await outage(
      'outage_stop',
      () => cluster.halt(),
      () => cluster.resume(),
    );
    console.log(`      pg_ctl stop: ${summary}`);
  });

  it('a database that hangs (SIGSTOP): the hung batch fails at --database-timeout, its connection is cut, and respql recovers', async function () {
    this.timeout(120_000);
    let frozen = false;
    try {
      const summary = await outage(
        'outage_freeze',
        () => {
          cluster.freeze((frozen = true));
        },
        () => {
          cluster.freeze((frozen = false));
        },
      );
      // Only the deadline can answer while the database hangs.
      expect(Number(/sql_timeouts (\d+)/.exec(summary)?.[1])).to.be.greaterThan(0);
      console.log(`      frozen database: ${summary}`);
    } finally {
      if (frozen) cluster.freeze(false);
    }
  });

  it('a statement stuck on a lock another client holds: -ERR at --database-timeout, and the database stops waiting too', async function () {
    this.timeout(60_000);
    respql = await spawnRespql([
      '--database-url',
      cluster.url,
      '--table',
      'outage_lock',
      '--database-timeout',
      '1s',
      '--cleanup-interval',
      '0',
    ]);
    expect((await timed(respql.port, 'SET', 'k', '1')).reply?.toString()).to.equal('OK');
    const holder = new Client({ connectionString: cluster.url });
    await holder.connect();
    const waiting = async () =>
      Number(
        (await holder.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'respql' AND wait_event_type = 'Lock'`))
          .rows[0].n,
      );
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM outage_lock WHERE token = 'k' FOR UPDATE`);
      const stuck = await timed(respql.port, 'SET', 'k', '2');
      expect(stuck.reply)
        .to.have.property('error')
        .that.matches(/^ERR database unavailable: /);
      expect(stuck.ms).to.be.below(1000 + SLACK_MS);
      // statement_timeout: respql's backend gives up its lock wait while the lock is still held.
      await waitFor("respql's backend to stop waiting for the lock", async () => (await waiting()) === 0, 10_000);
      await holder.query('ROLLBACK');
      expect(await timeToRecover(respql.port)).to.be.below(RECOVERY_MS);
      expect((await timed(respql.port, 'GET', 'k')).reply?.toString(), 'the write that failed').to.equal('1');
    } finally {
      await holder.end();
    }
    expect(await respql.stop()).to.equal(0);
  });
});
