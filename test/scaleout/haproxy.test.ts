/**
 * scripts/haproxy-demo.ts as a test: HAProxy (TCP, option redis-check) in front of two respql
 * instances on one PostgreSQL, connect-redis traffic, one instance killed with SIGKILL mid-run.
 */
import { expect } from 'chai';
import { runDemo } from '../../scripts/haproxy-demo';
import { freshDatabase } from '../support/postgres';

describe('scale-out: HAProxy in front of two respql instances (postgres)', function () {
  this.timeout(120_000);

  it('clients reconnect through the balancer when an instance is killed, and no acknowledged session is lost', async () => {
    const lines: string[] = [];
    const result = await runDemo({ seconds: 8, clients: 6, databaseUrl: await freshDatabase(), log: (l) => lines.push(l) });
    console.log(lines.map((l) => `      ${l}`).join('\n'));
    expect(result.sessionsWritten).to.be.greaterThan(0);
    expect(result.readsLost).to.equal(0);
    expect(result.missingAtEnd).to.equal(0);
    // Both instances took clients before the kill; HAProxy's check then marked the dead one DOWN.
    expect(result.servers.map((s) => s.name)).to.deep.equal(['respql1', 'respql2']);
    for (const s of result.servers) expect(s.sessions, s.name).to.be.greaterThan(0);
    expect(result.servers.map((s) => s.status)).to.deep.equal(['DOWN', 'UP']);
    // The killed instance's clients reconnected, and every client was served again afterwards.
    expect(result.reconnects).to.be.at.least(1);
    expect(result.opsBeforeKill).to.be.greaterThan(0);
    expect(result.opsAfterKill).to.be.greaterThan(0);
    expect(result.failoverMs).to.be.at.least(0);
  });
});
