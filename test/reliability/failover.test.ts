/**
 * The failover drill (scripts/failover/drill.ts) as a test: respql on three PostgreSQL nodes
 * under Patroni (synchronous replication, HAProxy to the primary), 50 session clients through
 * a second HAProxy in front of two respql instances, the primary killed five times (postmaster,
 * Patroni, SIGSTOP of the node, in turn), then a planned switchover.
 */
import { expect } from 'chai';
import { runDrill, type DrillResult } from '../../scripts/failover/drill';

const DATABASE_TIMEOUT_MS = 2000;
/** Scheduling slack on a busy shared machine: a reply may come this much after the bound. */
const SLACK_MS = 3000;
/** respql serves again within this of Patroni reporting the new primary running. */
const RECOVERY_MS = 5000;

describe('failover: Patroni cluster, primary killed under session traffic (postgres)', function () {
  this.timeout(600_000);
  let result: DrillResult;

  before(async () => {
    // Printed as it goes: a failure's message then follows the steps that led to it.
    result = await runDrill({
      kills: 5,
      clients: 50,
      ttl: 6,
      databaseTimeoutMs: DATABASE_TIMEOUT_MS,
      log: (l) => console.log(`      ${l}`),
    });
  });

  it('loses no acknowledged write', () => {
    expect(result.acknowledged).to.be.greaterThan(1000);
    expect(result.lost).to.deep.equal([]);
    expect(result.present).to.equal(result.acknowledged);
  });

  it('killed the primary five times, each way, and a new primary was promoted each time', () => {
    expect(result.kills.map((k) => k.kind)).to.deep.equal(['postgres', 'patroni', 'freeze', 'postgres', 'patroni']);
    for (const k of result.kills) expect(k.to, `${k.kind} of ${k.from}`).to.not.equal(k.from);
  });

  it('never crashes, and answers every command within --database-timeout, with a clear error while there is no primary', () => {
    expect(result.respqlAlive).to.equal(true);
    expect(result.slowestMs, 'slowest reply, ms').to.be.below(DATABASE_TIMEOUT_MS + SLACK_MS);
    expect(result.errorTexts.length, 'distinct error texts').to.be.greaterThan(0);
    for (const text of result.errorTexts) expect(text).to.match(/^ERR database unavailable: /);
  });

  it('serves again within 5 s of each promotion', () => {
    for (const k of [...result.kills, result.switchover]) expect(k.recoveredMs, `${k.kind} of ${k.from}, ms`).to.be.below(RECOVERY_MS);
  });

  it('shows clients no error through a planned switchover beyond a bounded retry', () => {
    expect(result.switchover.to).to.not.equal(result.switchover.from);
    expect(result.switchoverGivenUp).to.equal(0);
  });
});
