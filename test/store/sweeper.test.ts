import { expect } from 'chai';
import { RawClient } from '../support/resp-client';
import { BACKENDS, startRespql } from '../support/respql';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`expiry sweeper (${backend})`, () => {
    it('deletes expired rows in bounded batches on its timer, and never touches live ones', async function () {
      this.timeout(30_000);
      const respql = await startRespql(backend, { cleanupIntervalMs: 200 });
      const client = await RawClient.connect(respql.port);
      try {
        const past = String(Date.now() - 1000);
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 2500; i++) writes.push(client.send('SET', `old:${i}`, 'x', 'PXAT', past));
        for (let i = 0; i < 10; i++) writes.push(client.send('SET', `live:${i}`, 'y', 'EX', '100'));
        await Promise.all(writes);
        // Expired rows are invisible at once, whether or not the sweeper has run.
        expect(await client.send('DBSIZE')).to.equal(10);
        const rows = async () => Number((await respql.server.engine.knex('sessions').count({ n: '*' }))[0].n);
        for (let i = 0; i < 50 && (await rows()) > 10; i++) await sleep(100);
        expect(await rows()).to.equal(10);
        expect(await client.send('DBSIZE')).to.equal(10);
        const info = (await client.send('INFO', 'respql')) as Buffer;
        expect(info.toString()).to.match(/sweeper_deleted_keys:2500/);
      } finally {
        await client.close();
        await respql.stop();
      }
    });
  });
}
