import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

type Client = ReturnType<typeof createClient>;

/** A small express app with the usual session routes, its store pointed at respql. */
function sessionApp(store: RedisStore, maxAgeMs: number) {
  const app = express();
  app.use(session({ store, secret: 'test-secret', resave: false, saveUninitialized: false, cookie: { maxAge: maxAgeMs } }));
  app.post('/login', (req, res) => {
    (req.session as unknown as { user: string }).user = 'alice';
    res.send('ok');
  });
  app.get('/me', (req, res) => res.send((req.session as unknown as { user?: string }).user ?? 'anonymous'));
  app.post('/logout', (req, res) => req.session.destroy(() => res.send('bye')));
  return app;
}

async function listen(app: ReturnType<typeof express>): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0];

for (const backend of BACKENDS) {
  describe(`express-session + connect-redis 9 (node-redis 6, RESP3) against respql (${backend})`, () => {
    let respql: RunningRespql;
    let client: Client;
    let store: RedisStore;

    before(async () => {
      respql = await startRespql(backend);
      client = createClient({ url: respql.url, RESP: 3 });
      await client.connect();
      store = new RedisStore({ client, prefix: 'sess:' });
    });
    after(async () => {
      client.destroy();
      await respql.stop();
    });

    it('keeps a login across requests, ends it on logout', async () => {
      const { server, base } = await listen(sessionApp(store, 60_000));
      try {
        const login = await fetch(`${base}/login`, { method: 'POST' });
        const cookie = cookieOf(login);
        expect(cookie).to.match(/^connect\.sid=/);
        expect(await (await fetch(`${base}/me`, { headers: { cookie } })).text()).to.equal('alice');
        expect(await client.dbSize()).to.equal(1);
        await fetch(`${base}/logout`, { method: 'POST', headers: { cookie } });
        expect(await (await fetch(`${base}/me`, { headers: { cookie } })).text()).to.equal('anonymous');
        expect(await client.dbSize()).to.equal(0);
      } finally {
        server.close();
      }
    });

    it('forgets the session after the cookie max-age', async function () {
      this.timeout(10_000);
      const { server, base } = await listen(sessionApp(store, 1_000));
      try {
        const cookie = cookieOf(await fetch(`${base}/login`, { method: 'POST' }));
        expect(await (await fetch(`${base}/me`, { headers: { cookie } })).text()).to.equal('alice');
        const [key] = await client.keys('sess:*');
        expect(await client.ttl(key)).to.be.within(1, 2);
        await new Promise((r) => setTimeout(r, 2_100));
        expect(await (await fetch(`${base}/me`, { headers: { cookie } })).text()).to.equal('anonymous');
        expect(await client.get(key)).to.equal(null);
      } finally {
        server.close();
      }
    });

    it('supports every store method: set, get, touch, length, ids, all, destroy, clear with 1200 sessions', async function () {
      this.timeout(60_000);
      // connect-redis's methods take a callback and also return a promise (ignored here).
      const call = <T>(fn: (cb: (err: unknown, v?: T) => void) => unknown) =>
        new Promise<T>((resolve, reject) =>
          fn((err, v) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(v as T))),
        );
      const sess = (n: number) => ({ cookie: { originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000) }, n }) as never;
      await call<void>((cb) => store.clear(cb));
      for (let i = 0; i < 1200; i++) await call<void>((cb) => store.set(`id${i}`, sess(i), cb));
      expect(await call<number>((cb) => store.length(cb))).to.equal(1200);
      const ids = await call<string[]>((cb) => store.ids(cb));
      expect(new Set(ids).size).to.equal(1200);
      const all = await call<{ n: number; id: string }[]>((cb) => store.all(cb));
      expect(all).to.have.length(1200);
      expect(all.find((s) => s.id === 'id7')!.n).to.equal(7);
      expect((await call<{ n: number }>((cb) => store.get('id7', cb))).n).to.equal(7);
      await call<void>((cb) => store.touch('id7', { cookie: { expires: new Date(Date.now() + 30_000) } } as never, cb));
      expect(await client.ttl('sess:id7')).to.be.within(29, 30);
      await call<void>((cb) => store.destroy('id7', cb));
      expect(await call((cb) => store.get('id7', cb))).to.equal(null);
      await call<void>((cb) => store.clear(cb));
      expect(await call<number>((cb) => store.length(cb))).to.equal(0);
    });
  });
}
