import { expect } from 'chai';
import { createClient as createClient6, RESP_TYPES } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

for (const backend of BACKENDS) {
  describe(`node-redis against respql (${backend})`, () => {
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(async () => respql.stop());

    it('node-redis 6 with RESP3 (HELLO 3 + SETNAME): set, get, del, ttl, multi', async () => {
      const client = createClient6({ url: respql.url, RESP: 3, name: 'n6' });
      await client.connect();
      try {
        expect(await client.clientGetName()).to.equal('n6');
        expect(await client.set('sess:a', 'x', { expiration: { type: 'PX', value: 50_000 } })).to.equal('OK');
        expect(await client.get('sess:a')).to.equal('x');
        expect(await client.pTTL('sess:a')).to.be.within(49_000, 50_000);
        const replies = await client.multi().set('sess:b', 'y').get('sess:b').exec();
        expect(replies).to.deep.equal(['OK', 'y']);
        expect(await client.del(['sess:a', 'sess:b'])).to.equal(2);
        expect(await client.get('sess:a')).to.equal(null);
        const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
        await client.set('bin', Buffer.from([0, 1, 254, 255]));
        expect(Buffer.compare((await binary.get('bin')) as unknown as Buffer, Buffer.from([0, 1, 254, 255]))).to.equal(0);
      } finally {
        client.destroy();
      }
    });

    it('node-redis 4 (RESP2, CLIENT SETNAME on connect): set, get, del', async () => {
      const client = createClient4({ url: respql.url, name: 'n4' });
      await client.connect();
      try {
        expect(await client.set('sess:c', 'z', { EX: 10 })).to.equal('OK');
        expect(await client.get('sess:c')).to.equal('z');
        expect(await client.ttl('sess:c')).to.be.within(9, 10);
        expect(await client.del('sess:c')).to.equal(1);
        expect(await client.sendCommand(['CLIENT', 'GETNAME'])).to.equal('n4');
      } finally {
        await client.quit();
      }
    });
  });
}
