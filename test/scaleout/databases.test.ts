/**
 * Numbered databases across two instances on one database: the keys one instance writes in
 * database 3 are the other's, a SWAPDB through one is seen by the other, FLUSHALL and INFO
 * keyspace reach databases only the other instance created, and the expiry sweeper and the
 * `expired` events cover every database.
 */
import { expect } from 'chai';
import { createServer, type RespqlServer } from '../../src';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';
import { info, sleep, waitFor } from './helpers';

for (const backend of BACKENDS) {
  describe(`numbered databases: two instances on one ${backend} database`, function () {
    this.timeout(60_000);
    let servers: RespqlServer[];
    let cleanup: () => void;
    let a: RawClient;
    let b: RawClient;
    const send = async (c: RawClient, ...argv: string[]) => toStrings(await c.send(...argv));

    before(async () => {
      const db = await freshDatabaseUrl(backend);
      cleanup = db.cleanup;
      servers = [];
      for (let i = 0; i < 2; i++) {
        const server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0, expiredEventsIntervalMs: 50 });
        await server.listen();
        servers.push(server);
      }
      [a, b] = await Promise.all(servers.map((s) => RawClient.connect(s.address()!.port)));
    });
    after(async () => {
      await a?.close();
      await b?.close();
      for (const s of servers ?? []) await s.close();
      cleanup?.();
    });

    it("each sees the other's database 3, and a SWAPDB made through the other", async () => {
      await send(a, 'SELECT', '3');
      expect(await send(a, 'SET', 'k', 'three')).to.equal('OK');
      expect(await send(a, 'SADD', 's', 'x', 'y')).to.equal(2);
      await send(b, 'SELECT', '3');
      expect(await send(b, 'GET', 'k')).to.equal('three');
      expect(await send(b, 'SCARD', 's')).to.equal(2);
      expect(await send(b, 'SET', 'j', 'from-b')).to.equal('OK');
      expect(await send(a, 'GET', 'j')).to.equal('from-b');
      expect(await send(b, 'SWAPDB', '3', '4')).to.equal('OK');
      expect(await send(a, 'DBSIZE')).to.equal(0);
      await send(a, 'SELECT', '4');
      expect(await send(a, 'GET', 'k')).to.equal('three');
      expect(await send(a, 'SMISMEMBER', 's', 'x', 'y', 'z')).to.deep.equal([1, 1, 0]);
    });

    it('FLUSHALL and INFO keyspace through one reach a database only the other created', async () => {
      await send(a, 'SELECT', '11');
      await send(a, 'SET', 'only-a', '1');
      expect((await info(servers[1].address()!.port, 'keyspace')).db11).to.match(/^keys=1,expires=0,/);
      expect(await send(b, 'FLUSHALL')).to.equal('OK');
      expect(await send(a, 'DBSIZE')).to.equal(0);
      expect(await info(servers[0].address()!.port, 'keyspace')).to.deep.equal({});
    });

    it('the sweeper deletes expired keys of every database', async () => {
      await send(a, 'SELECT', '6');
      await send(a, 'SET', 'gone', 'v', 'PX', '20');
      await send(a, 'SELECT', '0');
      await send(a, 'SET', 'gone', 'v', 'PX', '20');
      await sleep(50);
      const before = Number((await info(servers[1].address()!.port)).sweeper_deleted_keys);
      await servers[1].sweep();
      expect(Number((await info(servers[1].address()!.port)).sweeper_deleted_keys) - before).to.equal(2);
    });

    it('a key set with PX in database 7 raises one expired event on __keyevent@7__, on each instance', async () => {
      const listeners = await Promise.all(
        servers.map(async (s) => {
          const c = await RawClient.connect(s.address()!.port);
          await c.send('CONFIG', 'SET', 'notify-keyspace-events', 'Ex');
          c.sendRaw(Buffer.from('PSUBSCRIBE __keyevent@*__:expired\r\n'));
          await c.readReply();
          const events: string[] = [];
          void (async () => {
            for (;;) events.push((toStrings(await c.readReply()) as string[]).slice(2).join(' '));
          })().catch(() => undefined);
          return { c, events };
        }),
      );
      try {
        await send(a, 'SELECT', '7');
        await send(a, 'SET', 'e', 'v', 'PX', '100');
        // Only PostgreSQL carries messages between instances; elsewhere the instance that deleted the key is the one that tells.
        const receivers = () => (backend === 'postgres' ? listeners.map((l) => l.events) : [listeners.flatMap((l) => l.events)]);
        await waitFor('the expired events', () => Promise.resolve(receivers().every((events) => events.length > 0)), 5_000);
        await sleep(300);
        for (const events of receivers()) expect(events).to.deep.equal(['__keyevent@7__:expired e']);
      } finally {
        for (const l of listeners) await l.c.destroy();
      }
    });
  });
}
