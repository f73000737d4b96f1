/**
 * Crash durability: respql is killed with SIGKILL at random moments under a write load,
 * and after every restart each acknowledged write is still there (see WriteLoad.check).
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';
import { WriteLoad } from './load';

const KILLS = 12;
const CLIENTS = 50;

for (const backend of BACKENDS) {
  describe(`crash durability: kill -9 under a ${CLIENTS}-client write load (${backend})`, () => {
    it(`keeps every acknowledged write through ${KILLS} kills at random moments`, async function () {
      this.timeout(180_000);
      const db = await freshDatabaseUrl(backend);
      const load = new WriteLoad(CLIENTS);
      const delays: number[] = [];
      let keyChecks = 0;
      let committedUnacknowledged = 0;
      let proc: RespqlProcess | undefined;
      try {
        for (let kills = 0; ; kills++) {
          proc = await spawnRespql(['--database-url', db.url, '--cleanup-interval', '0']);
          const result = await load.check(proc.port);
          expect(result.violations, `after kill ${kills} (kill delays so far, ms: ${delays.join(', ')})`).to.deep.equal([]);
          keyChecks += result.acknowledgedKeys;
          committedUnacknowledged += result.unacknowledgedButCommitted;
          if (kills === KILLS) break;
          await load.start(proc.port);
          const delay = 100 + Math.floor(Math.random() * 1000);
          delays.push(delay);
          await sleep(delay);
          await proc.kill9();
          await load.stop();
        }
        expect(load.acknowledged, 'acknowledged writes').to.be.greaterThan(KILLS * CLIENTS);
        expect(await proc.stop()).to.equal(0);
      } finally {
        if (proc && proc.proc.exitCode === null && proc.proc.signalCode === null) await proc.kill9();
        db.cleanup();
      }
      console.log(
        `      ${backend}: ${KILLS} kill -9 under ${CLIENTS} clients, ${load.acknowledged} writes acknowledged, ` +
          `${keyChecks} key checks against the last acknowledged value (every written key after each restart), 0 lost; ` +
          `${committedUnacknowledged} writes in flight at a kill were found committed`,
      );
    });
  });
}
