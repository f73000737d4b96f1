/**
 * Real subscribers: ioredis (RESP2 subscriber mode) and node-redis 6 (RESP3 pushes, and
 * RESP2) with channel and pattern subscriptions, keyspace events included; redis-cli's
 * `--csv psubscribe '*'` prints what it gets.
 */
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const until = async (what: string, check: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

for (const backend of BACKENDS) {
  describe(`pub/sub clients against respql (${backend})`, () => {
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(async () => respql.stop());

    it('ioredis: subscribe and psubscribe, messages and pmessages, keyspace events, then commands again after unsubscribing', async () => {
      const sub = new Redis(respql.port, { lazyConnect: true });
      const pub = new Redis(respql.port, { lazyConnect: true });
      await Promise.all([sub.connect(), pub.connect()]);
      try {
        const got: string[] = [];
        sub.on('message', (channel: string, message: string) => got.push(`message ${channel} ${message}`));
        sub.on('pmessage', (pattern: string, channel: string, message: string) => got.push(`pmessage ${pattern} ${channel} ${message}`));
        expect(await sub.subscribe('news', 'sport')).to.equal(2);
        expect(await sub.psubscribe('__keyevent@0__:*')).to.equal(3);
        await pub.config('SET', 'notify-keyspace-events', 'E$g');
        expect(await pub.publish('news', 'hello')).to.equal(1);
        await pub.set('io:k', 'v');
        await pub.del('io:k');
        expect(await pub.publish('sport', 'goal')).to.equal(1);
        await until('4 messages', () => got.length >= 4);
        expect(got).to.deep.equal([
          'message news hello',
          'pmessage __keyevent@0__:* __keyevent@0__:set io:k',
          'pmessage __keyevent@0__:* __keyevent@0__:del io:k',
          'message sport goal',
        ]);
        // (ioredis 6 never settles UNSUBSCRIBE without arguments, against Redis too: name them.)
        await sub.unsubscribe('news', 'sport');
        await sub.punsubscribe('__keyevent@0__:*');
        expect(await sub.get('io:k')).to.equal(null);
        await pub.config('SET', 'notify-keyspace-events', '');
      } finally {
        sub.disconnect();
        pub.disconnect();
      }
    });

    for (const RESP of [3, 2] as const) {
      it(`node-redis 6 (RESP${RESP}): subscribe and pSubscribe listeners, commands on the same connection in RESP3`, async () => {
        const client = createClient({ url: respql.url, RESP });
        await client.connect();
        const sub = client.duplicate();
        await sub.connect();
        try {
          const got: string[] = [];
          await sub.subscribe('ch', (message, channel) => got.push(`${channel}: ${message}`));
          await sub.pSubscribe('c*', (message, channel) => got.push(`c* ${channel}: ${message}`));
          expect(await client.publish('ch', 'one')).to.equal(2);
          expect(await client.publish('cx', 'two')).to.equal(1);
          await until('3 messages', () => got.length >= 3);
          expect(got.sort()).to.deep.equal(['c* ch: one', 'c* cx: two', 'ch: one']);
          // RESP3 allows ordinary commands on a subscribed connection.
          if (RESP === 3) expect(await sub.ping()).to.equal('PONG');
          expect(await client.pubSubNumSub(['ch'])).to.deep.equal({ ch: 1 });
          expect(await client.pubSubNumPat()).to.equal(1);
          await sub.unsubscribe('ch');
          await sub.pUnsubscribe('c*');
          expect(await client.publish('ch', 'gone')).to.equal(0);
        } finally {
          sub.destroy();
          client.destroy();
        }
      });
    }

    it("redis-cli --csv psubscribe '*' prints what it gets", async () => {
      const cli = spawn('redis-cli', ['-p', String(respql.port), '--csv', 'psubscribe', '*']);
      let out = '';
      cli.stdout.on('data', (d) => (out += d));
      try {
        await until('the subscription', () => out.includes('psubscribe'));
        const pub = new Redis(respql.port);
        await pub.publish('a', 'hello world');
        await pub.publish('b', 'x,"y"');
        pub.disconnect();
        await until('two messages', () => out.split('\n').filter((l) => l.startsWith('"pmessage"')).length >= 2);
        expect(out.split('\n').filter((l) => l.startsWith('"'))).to.deep.equal([
          '"psubscribe","*",1',
          '"pmessage","*","a","hello world"',
          '"pmessage","*","b","x,\\"y\\""',
        ]);
      } finally {
        cli.kill();
      }
    });
  });
}
