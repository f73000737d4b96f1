/**
 * The expiry sweeper of several instances on one database: one lease row decides which
 * instance sweeps; when it goes away (closed, or killed with SIGKILL) another takes over.
 */
import { expect } from 'chai';
import { knex as createKnex, type Knex } from 'knex';
import { createServer, type RespqlServer } from '../../src';
import { knexConfigFor } from '../../src/store/knex-config';
import { RawClient } from '../support/resp-client';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';
import { info, sleep, waitFor } from './helpers';

/** In-process instances share one event loop, so a long stall could let a non-holder's tick run first: keep a wide margin. */
const INTERVAL_MS = 1000;
/** Child processes: only the takeover matters. */
const KILL_INTERVAL_MS = 400;

/** Writes `n` already-expired keys and `live` live ones through the instance on `port`. */
async function writeKeys(port: number, prefix: string, n: number, live: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    const past = String(Date.now() - 1000);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) writes.push(client.send('SET', `${prefix}:old:${i}`, 'x', 'PXAT', past));
    for (let i = 0; i < live; i++) writes.push(client.send('SET', `${prefix}:live:${i}`, 'y', 'EX', '1000'));
    await Promise.all(writes);
  } finally {
    await client.close();
  }
}

const rowCount = async (db: Knex) => Number((await db('sessions').count({ n: '*' }))[0].n);
const leaseRows = (db: Knex) => db('sessions_sweeper_lease').select('name', 'holder');

for (const backend of BACKENDS) {
  describe(`scale-out: sweeper lease across instances (${backend})`, function () {
    this.timeout(120_000);
    let databaseUrl: string;
    let cleanup: () => void;
    let db: Knex;

    beforeEach(async () => {
      ({ url: databaseUrl, cleanup } = await freshDatabaseUrl(backend));
      db = createKnex(knexConfigFor(databaseUrl));
    });
    afterEach(async () => {
      await db.destroy();
      cleanup();
    });

    it('three instances: only the lease holder sweeps; closing it hands the lease to another within an interval', async () => {
      const servers: RespqlServer[] = [];
      try {
        // One after the other: the first creates the tables (see README, Scaling out).
        for (let i = 0; i < 3; i++) {
          const server = createServer({ databaseUrl, port: 0, cleanupIntervalMs: INTERVAL_MS });
          await server.listen();
          servers.push(server);
        }
        const ports = servers.map((s) => s.address()!.port);
        const holderIndex = await waitFor('a lease holder', async () => {
          const held = (await Promise.all(ports.map((p) => info(p)))).map((f) => f.sweeper_lease_held === '1');
          return held.includes(true) ? held.indexOf(true) : undefined;
        });
        const holder = servers[holderIndex];
        // A few more intervals: the lease stays with its holder, and nobody else sweeps.
        await sleep(INTERVAL_MS * 4);
        const figures = await Promise.all(ports.map((p) => info(p)));
        const holderId = figures[holderIndex].sweeper_instance;
        expect(figures.map((f) => f.sweeper_lease_held)).to.deep.equal(ports.map((_, i) => (i === holderIndex ? '1' : '0')));
        for (const f of figures) expect(f.sweeper_lease_holder).to.equal(holderId);
        expect(Number(figures[holderIndex].sweeper_runs)).to.be.at.least(2);
        for (const [i, f] of figures.entries()) if (i !== holderIndex) expect(f.sweeper_runs, `instance ${i}`).to.equal('0');
        expect(await leaseRows(db)).to.deep.equal([{ name: 'sweeper', holder: holderId }]);

        // Expired rows written through another instance are collected by the holder alone.
        const other = ports[(holderIndex + 1) % 3];
        await writeKeys(other, 'a', 2500, 10);
        await waitFor('expired rows swept', async () => (await rowCount(db)) === 10);
        // The counter moves once the sweep's commit is flushed, a moment after the rows vanish.
        await waitFor('sweep counted', async () => Number((await info(ports[holderIndex])).sweeper_deleted_keys) >= 2500 || undefined);
        const after = await Promise.all(ports.map((p) => info(p)));
        expect(after.map((f) => Number(f.sweeper_deleted_keys))).to.deep.equal(ports.map((_, i) => (i === holderIndex ? 2500 : 0)));

        // A clean shutdown gives the lease back; the next tick of another instance takes it.
        await holder.close();
        expect((await leaseRows(db)).filter((r) => r.holder === holderId)).to.deep.equal([]);
        const rest = ports.filter((_, i) => i !== holderIndex);
        const closedAt = Date.now();
        const next = await waitFor('a new lease holder', async () => {
          for (const p of rest) if ((await info(p)).sweeper_lease_held === '1') return p;
          return undefined;
        });
        const takeoverMs = Date.now() - closedAt;
        console.log(`      (${backend}) takeover after close: ${takeoverMs} ms (interval ${INTERVAL_MS} ms)`);
        await writeKeys(next, 'b', 1500, 0);
        await waitFor('expired rows swept by the new holder', async () => (await rowCount(db)) === 10);
        await waitFor('sweep counted', async () => Number((await info(next)).sweeper_deleted_keys) >= 1500 || undefined);
        expect(Number((await info(next)).sweeper_deleted_keys)).to.equal(1500);
      } finally {
        for (const s of servers) await s.close();
      }
    });

    it('SIGKILL of the sweeping process: another process takes over once the lease runs out and deletes every expired row', async () => {
      const procs: RespqlProcess[] = [];
      const args = ['--database-url', databaseUrl, '--cleanup-interval', `${KILL_INTERVAL_MS}ms`];
      try {
        for (let i = 0; i < 3; i++) procs.push(await spawnRespql(args));
        const holder = await waitFor('a lease holder', async () => {
          for (const p of procs) if ((await info(p.port)).sweeper_lease_held === '1') return p;
          return undefined;
        });
        const holderId = (await info(holder.port)).sweeper_instance;
        await holder.kill9();
        const killedAt = Date.now();
        const rest = procs.filter((p) => p !== holder);
        await writeKeys(rest[0].port, 'k', 3000, 5);
        // The dead holder's row stays until it runs out (2 intervals after its last renewal).
        const next = await waitFor('a new lease holder', async () => {
          for (const p of rest) if ((await info(p.port)).sweeper_lease_held === '1') return p;
          return undefined;
        });
        const takeoverMs = Date.now() - killedAt;
        console.log(
          `      (${backend}) takeover after SIGKILL: ${takeoverMs} ms (interval ${KILL_INTERVAL_MS} ms, lease ${2 * KILL_INTERVAL_MS} ms)`,
        );
        const [row] = await leaseRows(db);
        expect(row.holder).to.not.equal(holderId);
        expect(row.holder).to.equal((await info(next.port)).sweeper_instance);
        await waitFor('every expired row deleted', async () => (await rowCount(db)) === 5);
        const deleted = await Promise.all(rest.map(async (p) => Number((await info(p.port)).sweeper_deleted_keys)));
        expect(deleted.reduce((a, b) => a + b)).to.equal(3000);
      } finally {
        for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) await p.stop();
      }
    });
  });
}
