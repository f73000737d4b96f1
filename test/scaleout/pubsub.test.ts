/**
 * Pub/sub across two respql instances on one PostgreSQL (LISTEN/NOTIFY): every subscriber on
 * either instance gets every message once and in order, large messages (cut into NOTIFY-sized
 * parts) whole; an instance killed with SIGKILL does not stop the other; a listener cut off by
 * the database reconnects.
 */
import { expect } from 'chai';
import knexFactory from 'knex';
import { createServer, type RespqlServer } from '../../src';
import { RawClient, toStrings } from '../support/resp-client';
import { freshDatabaseUrl } from '../support/respql';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { waitFor } from './helpers';

/** A RESP2 subscriber: its confirmations are read, then `next(n)` reads n messages as strings. */
async function subscriber(
  port: number,
  command: string,
  ...names: string[]
): Promise<{ client: RawClient; next(n: number): Promise<unknown[]> }> {
  const client = await RawClient.connect(port);
  client.sendRaw(Buffer.from(`${command} ${names.join(' ')}\r\n`));
  for (let i = 0; i < names.length; i++) await client.readReply();
  return {
    client,
    async next(n) {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(toStrings(await client.readReply()));
      return out;
    },
  };
}

describe('scale-out: pub/sub across two instances on PostgreSQL', function () {
  this.timeout(90_000);
  let url: string;
  let a: RespqlServer;
  let b: RespqlProcess;
  let portA: number;

  before(async () => {
    url = (await freshDatabaseUrl('postgres')).url;
    a = createServer({ databaseUrl: url, port: 0, cleanupIntervalMs: 0 });
    portA = (await a.listen()).port;
    b = await spawnRespql(['--database-url', url, '--migrate', 'no']);
  });
  after(async () => {
    await b?.kill9().catch(() => undefined);
    await a?.close();
  });

  it('a publisher on either instance reaches subscribers on both, every message once, in order, large ones whole', async () => {
    const onA = await subscriber(portA, 'SUBSCRIBE', 'ch');
    const patternOnA = await subscriber(portA, 'PSUBSCRIBE', 'c*');
    const onB = await subscriber(b.port, 'SUBSCRIBE', 'ch');
    const pubA = await RawClient.connect(portA);
    const pubB = await RawClient.connect(b.port);
    // Binary bodies, two of them over NOTIFY's 8000-byte payload limit.
    const bodies = Array.from({ length: 60 }, (_, i) =>
      i === 20
        ? Buffer.alloc(20_000, 0xab)
        : i === 40
          ? Buffer.from(Array.from({ length: 300_000 }, (_, j) => (j * 7 + i) % 256))
          : Buffer.from(`m${i}\r\n\0`),
    );
    const counts: unknown[] = [];
    // Pipelined on each publisher: order per publisher must still hold.
    const sent = bodies.map((body, i) => (i % 2 ? pubB : pubA).send('PUBLISH', 'ch', body));
    for (const reply of await Promise.all(sent)) counts.push(reply);
    // A's receivers are its two subscribers, B's its one: PUBLISH counts the publishing instance's.
    expect(counts).to.deep.equal(bodies.map((_, i) => (i % 2 ? 1 : 2)));
    const strings = bodies.map((body) => body.toString('utf8'));
    const fromA = strings.filter((_, i) => i % 2 === 0);
    const fromB = strings.filter((_, i) => i % 2 === 1);
    const orders: string[][] = [];
    for (const sub of [onA, onB]) {
      const got = (await sub.next(bodies.length)) as string[][];
      orders.push(got.map((m) => m[2]));
      expect(got.every((m) => m[0] === 'message' && m[1] === 'ch')).to.equal(true);
      const bodiesGot = got.map((m) => m[2]);
      expect(bodiesGot.filter((m) => fromA.includes(m))).to.deep.equal(fromA);
      expect(bodiesGot.filter((m) => fromB.includes(m))).to.deep.equal(fromB);
      expect(bodiesGot.length).to.equal(bodies.length);
    }
    const patterned = (await patternOnA.next(bodies.length)) as string[][];
    expect(patterned.map((m) => m.slice(0, 3))).to.deep.equal(bodies.map(() => ['pmessage', 'c*', 'ch']));
    // Both instances saw one order: the database's commit order.
    expect(orders[1]).to.deep.equal(orders[0]);
    // Nothing more arrives: each message came once.
    for (const sub of [onA, onB, patternOnA]) expect((await sub.client.readRaw({ timeoutMs: 300 })).length).to.equal(0);
    for (const c of [onA.client, onB.client, patternOnA.client, pubA, pubB]) await c.destroy();
  });

  it('a listener cut off by the database reconnects and delivery resumes', async () => {
    const onA = await subscriber(portA, 'SUBSCRIBE', 'again');
    const admin = knexFactory({ client: 'pg', connection: url });
    try {
      const cut = await admin.raw(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'respql-pubsub' AND datname = current_database()`,
      );
      expect(cut.rows.length).to.be.greaterThan(0);
    } finally {
      await admin.destroy();
    }
    const pub = await RawClient.connect(portA);
    // While the listener is away PUBLISH fails; once it is back the message is delivered.
    await waitFor('delivery after reconnection', async () => (await pub.send('PUBLISH', 'again', 'back')) === 1, 20_000, 100);
    expect(await onA.next(1)).to.deep.equal([['message', 'again', 'back']]);
    await pub.destroy();
    await onA.client.destroy();
  });

  it('an instance killed with SIGKILL does not stop the other from delivering', async () => {
    const onA = await subscriber(portA, 'SUBSCRIBE', 'after-kill');
    await b.kill9();
    const pub = await RawClient.connect(portA);
    for (let i = 0; i < 20; i++) expect(await pub.send('PUBLISH', 'after-kill', `k${i}`)).to.equal(1);
    expect(await onA.next(20)).to.deep.equal(Array.from({ length: 20 }, (_, i) => ['message', 'after-kill', `k${i}`]));
    await pub.destroy();
    await onA.client.destroy();
  });
});
