import { expect } from 'chai';
import Redis from 'ioredis';
import { PGBOUNCER_BACKENDS, startRespql, type RunningRespql } from '../support/respql';

for (const backend of PGBOUNCER_BACKENDS) {
  describe(`ioredis 6 against respql (${backend})`, () => {
    let respql: RunningRespql;
    let redis: Redis;

    before(async () => {
      respql = await startRespql(backend);
      redis = new Redis({ port: respql.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect();
    });
    after(async () => {
      redis.disconnect();
      await respql.stop();
    });

    it('connects (HELLO 3 handshake and INFO ready check) and PINGs', async () => {
      expect(redis.status).to.equal('ready');
      expect(await redis.ping()).to.equal('PONG');
    });

    it('SET with EX, GET, TTL, DEL behave as on Redis', async () => {
      expect(await redis.set('sess:1', '{"user":1}', 'EX', 100)).to.equal('OK');
      expect(await redis.get('sess:1')).to.equal('{"user":1}');
      const ttl = await redis.ttl('sess:1');
      expect(ttl).to.be.within(99, 100);
      expect(await redis.del('sess:1', 'missing')).to.equal(1);
      expect(await redis.get('sess:1')).to.equal(null);
      expect(await redis.ttl('sess:1')).to.equal(-2);
    });

    it('keeps any bytes of a value', async () => {
      const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await redis.set('bin', value);
      expect((await redis.getBuffer('bin'))!.equals(value)).to.equal(true);
    });

    it('answers a pipeline in request order', async () => {
      const p = redis.pipeline();
      for (let i = 0; i < 50; i++) p.set(`p:${i}`, String(i)).get(`p:${i}`);
      const results = await p.exec();
      expect(results).to.have.length(100);
      results!.forEach(([err, value], i) => {
        expect(err).to.equal(null);
        expect(value).to.equal(i % 2 === 0 ? 'OK' : String((i - 1) / 2));
      });
    });

    it('runs multi() atomically', async () => {
      const results = await redis.multi().set('m', 'a').get('m').del('m').exec();
      expect(results).to.deep.equal([
        [null, 'OK'],
        [null, 'a'],
        [null, 1],
      ]);
    });

    it('reports errors with Redis texts', async () => {
      let error: Error | null = null;
      await redis.set('k', 'v', 'EX', 0).catch((e: Error) => (error = e));
      expect(error!.message).to.equal("ERR invalid expire time in 'set' command");
    });
  });
}
