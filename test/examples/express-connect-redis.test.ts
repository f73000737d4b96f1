/**
 * examples/express-connect-redis: the example's own app.js (loaded from the example folder,
 * resolving express, connect-redis and redis from the repository's node_modules) against a
 * respql started here, on both backends, across a respql restart.
 */
import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createClient } from 'redis';
import { createServer, type RespqlServer } from '../../src';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';

const EXAMPLE = path.resolve(__dirname, '../../../examples/express-connect-redis');
const { createApp } = require(path.join(EXAMPLE, 'app.js')) as {
  createApp(options: { client: ReturnType<typeof createClient>; secret: string; maxAgeMs?: number }): {
    listen(port: number, host: string, cb: () => void): Server;
  };
};

/** A tiny cookie-keeping HTTP client, like `curl -c jar -b jar`. */
function browser(base: string) {
  let cookie = '';
  return async (method: string, url: string): Promise<string> => {
    const res = await fetch(base + url, { method, headers: cookie ? { cookie } : {} });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return res.text();
  };
}

for (const backend of BACKENDS) {
  describe(`examples/express-connect-redis against respql (${backend})`, function () {
    this.timeout(30_000);
    let db: { url: string; cleanup(): void };
    let respql: RespqlServer;
    let port: number;
    let client: ReturnType<typeof createClient>;
    let app: Server;
    let base: string;

    const startRespql = async (fixedPort: number) => {
      respql = createServer({ databaseUrl: db.url, port: fixedPort, cleanupIntervalMs: 0 });
      port = (await respql.listen()).port;
    };

    before(async () => {
      db = await freshDatabaseUrl(backend);
      await startRespql(0);
      client = createClient({ url: `redis://127.0.0.1:${port}` });
      client.on('error', () => undefined); // reconnects on its own after the restart below
      await client.connect();
      app = await new Promise<Server>((resolve) => {
        const server: Server = createApp({ client, secret: 'test-secret' }).listen(0, '127.0.0.1', () => resolve(server));
      });
      base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((resolve) => app.close(resolve));
      client.destroy();
      await respql.close();
      db.cleanup();
    });

    it('counts visits, logs in with a new session id, survives a respql restart, logs out', async () => {
      const visit = browser(base);
      expect(await visit('GET', '/')).to.equal('Hello stranger, this is visit 1 of this session.\n');
      expect(await visit('GET', '/')).to.equal('Hello stranger, this is visit 2 of this session.\n');
      const [before] = await client.keys('sess:*');

      expect(await visit('POST', '/login?name=alice')).to.equal('Logged in as alice.\n');
      const keys = await client.keys('sess:*');
      expect(keys).to.have.length(1);
      expect(keys[0]).to.not.equal(before);
      expect(JSON.parse((await client.get(keys[0]))!)).to.deep.include({ user: 'alice' });
      // connect-redis gives the key the cookie's lifetime (one day).
      expect(await client.ttl(keys[0])).to.be.within(86_390, 86_400);
      // The same session, seen from SQL.
      const rows = await respql.engine.knex('sessions').select('token');
      expect(rows.map((r) => r.token)).to.deep.equal(keys);

      // respql restarts on the same database; the app and its client stay up.
      await respql.close();
      await startRespql(port);
      expect(await visit('GET', '/')).to.equal('Hello alice, this is visit 1 of this session.\n');

      expect(await visit('POST', '/logout')).to.equal('Logged out.\n');
      expect(await client.keys('sess:*')).to.deep.equal([]);
      expect(await visit('GET', '/')).to.equal('Hello stranger, this is visit 1 of this session.\n');
    });
  });
}
