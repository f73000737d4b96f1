import { expect } from 'chai';
import { RawClient, toStrings } from '../support/resp-client';
import { spawnRespql } from '../support/respql-process';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';

for (const backend of BACKENDS) {
  describe(`durability: kill -9 after +OK (${backend})`, () => {
    it('every acknowledged write is there after a restart', async function () {
      this.timeout(60_000);
      const db = await freshDatabaseUrl(backend);
      try {
        const first = await spawnRespql(['--database-url', db.url]);
        const client = await RawClient.connect(first.port);
        const expiry = Date.now() + 3_600_000;
        // Pipelined writes, then kill the moment the last +OK arrives.
        const replies = await Promise.all(
          Array.from({ length: 200 }, (_, i) => client.send('SET', `sess:${i}`, `{"user":${i}}`, 'PXAT', String(expiry))),
        );
        expect(toStrings(replies)).to.deep.equal(Array(200).fill('OK'));
        await first.kill9();
        await client.close();

        const second = await spawnRespql(['--database-url', db.url]);
        const check = await RawClient.connect(second.port);
        try {
          for (const i of [0, 99, 199]) {
            expect(toStrings(await check.send('GET', `sess:${i}`))).to.equal(`{"user":${i}}`);
          }
          const pttl = (await check.send('PTTL', 'sess:199')) as number;
          expect(pttl).to.be.within(3_500_000, 3_600_000);
        } finally {
          await check.close();
          expect(await second.stop()).to.equal(0);
        }
      } finally {
        db.cleanup();
      }
    });
  });
}
