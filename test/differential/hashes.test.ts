/**
 * The hash command scripts against respql on both backends, compared with redis-server 7.0
 * through the shapes of ./shapes.ts. DIFF_REFERENCE_ONLY=1 checks the scripts on redis-server alone.
 */
import { expect } from 'chai';
import { runScript } from '../support/differential';
import { BACKENDS, startRespql } from '../support/respql';
import { scripts } from './scripts/hashes';
import { describeShapedDifferential, REFERENCE_ONLY } from './shapes';

describeShapedDifferential('hash commands', scripts);

// A deliberate difference (README "Differences from Redis"): respql accepts HSCAN's NOVALUES as
// Redis 7.4 does, where 7.0 answers ERR syntax error; so it is checked on respql alone.
if (!REFERENCE_ONLY) {
  describe('deliberate differences from redis-server 7.0: HSCAN NOVALUES (Redis 7.4)', () => {
    for (const backend of BACKENDS) {
      it(`answers the matching fields without their values (${backend})`, async function () {
        this.timeout(60_000);
        const respql = await startRespql(backend);
        try {
          const [, reply, withMatch, bad] = (await runScript(respql.port, [
            ['HSET', 'hs:nv', 'user:1', 'a', 'user:2', 'b', 'admin', 'c'],
            ['HSCAN', 'hs:nv', '0', 'NOVALUES'],
            ['HSCAN', 'hs:nv', '0', 'MATCH', 'user:*', 'NOVALUES'],
            ['HSCAN', 'hs:nv', '0', 'NOVALUES', 'COUNT', '0'],
          ])) as [unknown, [string, string[]], [string, string[]], unknown];
          expect(reply[0]).to.equal('0');
          expect([...reply[1]].sort()).to.deep.equal(['admin', 'user:1', 'user:2']);
          expect(withMatch[0]).to.equal('0');
          expect([...withMatch[1]].sort()).to.deep.equal(['user:1', 'user:2']);
          expect(bad).to.deep.equal({ error: 'ERR syntax error' });
        } finally {
          await respql.stop();
        }
      });
    }
  });
}
