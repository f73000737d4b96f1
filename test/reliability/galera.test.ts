/**
 * MariaDB Galera: a three-node cluster on loopback ports with one respql per node
 * (scripts/galera/cluster.ts), and the claims of scripts/galera/checks.ts asserted on it.
 */
import { expect } from 'chai';
import { DATABASE_TIMEOUT_MS, GaleraCluster } from '../../scripts/galera/cluster';
import { causalReads, incrConflicts, killUnderLoad, sweeperLease } from '../../scripts/galera/checks';

/** The sweeper's tick: its lease lasts two. */
const TICK_MS = 1000;

describe('Galera: three MariaDB nodes, one respql per node', function () {
  this.timeout(60_000);
  let cluster: GaleraCluster;

  before(async function () {
    this.timeout(120_000);
    cluster = await GaleraCluster.start({ databaseTimeoutMs: DATABASE_TIMEOUT_MS, cleanupIntervalMs: TICK_MS, log: () => undefined });
  });

  after(async function () {
    this.timeout(30_000);
    await cluster?.stop();
  });

  it('reads through one node a write acknowledged through another (causal reads)', async () => {
    const r = await causalReads(cluster, 12);
    expect(r.stale, `${r.stale} stale of ${r.reads} reads`).to.equal(0);
    expect(r.reads).to.equal(24);
  });

  it('retries certification conflicts: concurrent INCRs of one key through three nodes lose no increment', async () => {
    const r = await incrConflicts(cluster, 8, 20);
    expect(r.errors).to.deep.equal([]);
    expect(r.acknowledged).to.equal(r.sent);
    expect(r.final).to.equal(r.sent);
    expect(r.retries, 'batches retried after a certification failure').to.be.greaterThan(0);
  });

  it('sweeps on one instance at a time (the lease)', async () => {
    const r = await sweeperLease(cluster, 300, TICK_MS);
    expect(r.concurrent, `ticks in which two instances swept, of ${r.samples}`).to.equal(0);
    expect(r.instances.reduce((sum, i) => sum + i.deleted, 0)).to.equal(300);
    const holders = r.instances.filter((i) => i.held);
    expect(holders).to.have.length(1);
    expect(r.instances.map((i) => i.holder)).to.deep.equal(r.instances.map(() => holders[0].id));
  });

  it('loses no acknowledged write when a node is killed under a 50-client load; the other two keep serving', async () => {
    const victim = 2;
    const r = await killUnderLoad(cluster, victim, 50, 3000, 6000);
    console.log(
      `      kill -9 of one of 3 Galera nodes under 50 clients: ${r.acknowledged.reduce((a, b) => a + b)} SETs acknowledged ` +
        `(${r.acknowledgedAfterKill.filter((_, i) => i !== victim).join(' + ')} by the two others after the kill), ` +
        `${r.keysChecked} key checks, ${r.present} present, ${r.lost.length} lost; the dead node's clients got ` +
        `${r.errors[victim]} errors (median ${r.deadErrorMs.median} ms, max ${r.deadErrorMs.max} ms); slowest SET on the others ${r.survivorMaxMs} ms`,
    );
    expect(r.lost).to.deep.equal([]);
    expect(r.present).to.equal(r.keysChecked);
    expect(r.keysChecked).to.be.greaterThan(0);
    expect(r.staleOwnReads).to.equal(0);
    for (const [i, after] of r.acknowledgedAfterKill.entries())
      if (i !== victim) expect(after, `instance ${i} after the kill`).to.be.greaterThan(0);
    expect(
      r.errors.filter((_, i) => i !== victim),
      'errors on the surviving instances',
    ).to.deep.equal([0, 0]);
    expect(r.errors[victim]).to.be.greaterThan(0);
    expect(r.deadErrorMs.median, "median time to an error on the dead node's instance").to.be.lessThan(1000);
  });
});
