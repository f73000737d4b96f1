/**
 * WATCH precision, two clients at a time: one WATCHes, the other runs a command, then the
 * first runs MULTI / PING / EXEC. Redis aborts EXEC only when the other command really
 * modified a watched key (signalModifiedKey): a COPY touches only its destination, a SET NX
 * that did not set, an EXPIRE whose condition failed or a RENAME onto itself touch nothing.
 * Each case runs against redis-server and respql (both backends); the replies must match.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { runPipelined, usePeers } from '../support/differential';
import { RawClient, toStrings } from '../support/resp-client';
import { PGBOUNCER_BACKENDS, freshDatabaseUrl, startRespql, type RunningRespql } from '../support/respql';

interface WatchCase {
  name: string;
  setup: string[][];
  watch: string[];
  /** What the other client runs between WATCH and MULTI. */
  other: string[][];
}

const cases: WatchCase[] = [
  {
    name: 'GET and EXISTS do not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['GET', 'k'],
      ['EXISTS', 'k'],
      ['TTL', 'k'],
    ],
  },
  { name: 'SET of the same value touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['SET', 'k', 'v']] },
  {
    name: 'SET NX on a live key does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['SET', 'k', 'w', 'NX'],
      ['SETNX', 'k', 'w'],
    ],
  },
  {
    name: 'SET XX on an absent key does not touch',
    setup: [],
    watch: ['k'],
    other: [
      ['SET', 'k', 'w', 'XX'],
      ['SET', 'k', 'w', 'XX', 'GET'],
    ],
  },
  { name: 'SET NX on an absent key touches', setup: [], watch: ['k'], other: [['SET', 'k', 'w', 'NX']] },
  { name: 'COPY touches only the destination (source watched)', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['COPY', 'k', 'd']] },
  { name: 'COPY touches the destination', setup: [['SET', 'k', 'v']], watch: ['d'], other: [['COPY', 'k', 'd']] },
  {
    name: 'COPY onto an existing key without REPLACE touches nothing',
    setup: [
      ['SET', 'k', 'v'],
      ['SET', 'd', 'x'],
    ],
    watch: ['d'],
    other: [['COPY', 'k', 'd']],
  },
  {
    name: 'COPY REPLACE touches the destination',
    setup: [
      ['SET', 'k', 'v'],
      ['SET', 'd', 'x'],
    ],
    watch: ['d'],
    other: [['COPY', 'k', 'd', 'REPLACE']],
  },
  {
    name: 'EXPIRE NX on a key with a TTL does not touch',
    setup: [['SET', 'k', 'v', 'EX', '1000']],
    watch: ['k'],
    other: [['EXPIRE', 'k', '500', 'NX']],
  },
  {
    name: 'EXPIRE GT on a key without TTL does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['EXPIRE', 'k', '500', 'GT'],
      ['EXPIRE', 'k', '500', 'XX'],
    ],
  },
  { name: 'EXPIRE LT that applies touches', setup: [['SET', 'k', 'v', 'EX', '1000']], watch: ['k'], other: [['EXPIRE', 'k', '500', 'LT']] },
  {
    name: 'EXPIRE on an absent key does not touch',
    setup: [],
    watch: ['k'],
    other: [
      ['EXPIRE', 'k', '500'],
      ['PEXPIRE', 'k', '-1'],
    ],
  },
  { name: 'EXPIRE with the same TTL touches', setup: [['SET', 'k', 'v', 'EX', '1000']], watch: ['k'], other: [['EXPIRE', 'k', '1000']] },
  { name: 'EXPIRE in the past deletes and touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['EXPIRE', 'k', '-1']] },
  {
    name: 'PERSIST without TTL does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['PERSIST', 'k'],
      ['GETEX', 'k', 'PERSIST'],
      ['GETEX', 'k'],
    ],
  },
  { name: 'PERSIST with a TTL touches', setup: [['SET', 'k', 'v', 'EX', '1000']], watch: ['k'], other: [['PERSIST', 'k']] },
  { name: 'GETEX EX touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['GETEX', 'k', 'EX', '100']] },
  {
    name: 'RENAME onto itself does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['RENAME', 'k', 'k'],
      ['RENAMENX', 'k', 'k'],
    ],
  },
  { name: 'RENAME touches the source', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['RENAME', 'k', 'd']] },
  { name: 'RENAME touches the destination', setup: [['SET', 'k', 'v']], watch: ['d'], other: [['RENAME', 'k', 'd']] },
  {
    name: 'RENAMENX onto a live key touches nothing',
    setup: [
      ['SET', 'k', 'v'],
      ['SET', 'd', 'x'],
    ],
    watch: ['k', 'd'],
    other: [['RENAMENX', 'k', 'd']],
  },
  { name: 'RENAME of an absent key touches nothing', setup: [], watch: ['k', 'd'], other: [['RENAME', 'k', 'd']] },
  {
    name: 'DEL of absent keys does not touch',
    setup: [['SET', 'other', 'v']],
    watch: ['k'],
    other: [
      ['DEL', 'k', 'other'],
      ['UNLINK', 'k'],
      ['GETDEL', 'k'],
    ],
  },
  { name: 'DEL of a watched key touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['DEL', 'x', 'k']] },
  { name: 'GETDEL touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['GETDEL', 'k']] },
  { name: 'MSETNX that fails touches nothing', setup: [['SET', 'd', 'x']], watch: ['k'], other: [['MSETNX', 'k', '1', 'd', '2']] },
  { name: 'MSET touches each key', setup: [], watch: ['k'], other: [['MSET', 'a', '1', 'k', '2']] },
  {
    name: 'SETRANGE with an empty value does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k', 'n'],
    other: [
      ['SETRANGE', 'k', '0', ''],
      ['SETRANGE', 'n', '3', ''],
    ],
  },
  { name: 'APPEND of nothing touches', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['APPEND', 'k', '']] },
  { name: 'INCRBY 0 touches', setup: [['SET', 'k', '5']], watch: ['k'], other: [['INCRBY', 'k', '0']] },
  {
    name: 'INCR of a non-integer fails and touches nothing',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['INCR', 'k'],
      ['INCRBYFLOAT', 'k', '1'],
    ],
  },
  { name: 'FLUSHALL does not touch a watched absent key', setup: [['SET', 'other', 'v']], watch: ['k'], other: [['FLUSHALL']] },
  { name: 'FLUSHDB touches a watched live key', setup: [['SET', 'k', 'v']], watch: ['k'], other: [['FLUSHDB']] },
  {
    name: 'a write to another key does not touch',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [
      ['SET', 'k2', 'v'],
      ['DEL', 'k3'],
    ],
  },
  {
    name: 'MULTI/EXEC of the other client touches what it wrote',
    setup: [['SET', 'k', 'v']],
    watch: ['k'],
    other: [['MULTI'], ['SET', 'k', 'v', 'NX'], ['SET', 'x', 'y'], ['EXEC']],
  },
  {
    name: 'MULTI/EXEC of the other client that writes the key touches',
    setup: [],
    watch: ['k'],
    other: [['MULTI'], ['INCR', 'k'], ['EXEC']],
  },
];

/** Runs one case on a server; returns every reply in order, for comparison. */
async function runCase(port: number, c: WatchCase): Promise<unknown[]> {
  const [watcher, other] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
  const out: unknown[] = [];
  const send = async (client: RawClient, argv: string[]) =>
    out.push(`${argv.join(' ')} -> ${JSON.stringify(toStrings(await client.send(...argv)))}`);
  try {
    for (const argv of [['FLUSHALL'], ...c.setup]) await send(other, argv);
    await send(watcher, ['WATCH', ...c.watch]);
    for (const argv of c.other) await send(other, argv);
    for (const argv of [['MULTI'], ['PING'], ['EXEC']]) await send(watcher, argv);
    return out;
  } finally {
    await Promise.all([watcher.close(), other.close()]);
  }
}

for (const backend of PGBOUNCER_BACKENDS) {
  describe(`differential vs redis-server: WATCH sees only real modifications (${backend})`, function () {
    this.timeout(60_000);
    const peers = usePeers(backend);
    for (const c of cases) {
      it(c.name, async () => {
        const expected = await runCase(peers.redis.port, c);
        expect(await runCase(peers.respql.port, c)).to.deep.equal(expected);
      });
    }

    it("a plain SET pipelined just before EXEC, in the same write (one group commit), aborts it, the client's own write too", async () => {
      // respql answers the SET only after its commit is flushed, but EXEC runs in the same batch right after it:
      // the SET must touch the WATCH when it runs, not when its reply leaves.
      const script = [['DEL', 'p'], ['WATCH', 'p'], ['SET', 'p', 'mine'], ['MULTI'], ['SET', 'p', 'from-multi'], ['EXEC'], ['GET', 'p']];
      const expected = await runPipelined(peers.redis.port, script);
      expect(expected.slice(-2)).to.deep.equal([null, 'mine']);
      expect(await runPipelined(peers.respql.port, script)).to.deep.equal(expected);
    });

    it('transactions and WATCHes pipelined back to back in one write: each EXEC ends its own MULTI, each WATCH holds for its own EXEC', async () => {
      // MULTI runs as it is read; EXEC and WATCH wait for the store: their effect on the client must not wait with them.
      const script = [
        ['MULTI'],
        ['SET', 'a', '1'],
        ['EXEC'],
        ['MULTI'],
        ['SET', 'b', '2'],
        ['EXEC'],
        ['WATCH', 'a'],
        ['MULTI'],
        ['GET', 'a'],
        ['EXEC'],
        ['WATCH', 'a'],
        ['SET', 'a', 'x'],
        ['MULTI'],
        ['GET', 'a'],
        ['EXEC'],
        ['WATCH', 'b'],
        ['UNWATCH'],
        ['SET', 'b', 'y'],
        ['MULTI'],
        ['GET', 'b'],
        ['EXEC'],
        ['EXEC'],
        ['WATCH', 'a'],
        ['MULTI'],
        ['WATCH', 'b'],
        ['DISCARD'],
      ];
      const expected = await runPipelined(peers.redis.port, script);
      expect(await runPipelined(peers.respql.port, script)).to.deep.equal(expected);
    });
  });

  describe(`WATCH across respql instances sharing one database (${backend})`, function () {
    this.timeout(60_000);
    let a: RunningRespql;
    let b: RunningRespql;
    let cleanup: () => void;
    before(async () => {
      const db = await freshDatabaseUrl(backend);
      cleanup = db.cleanup;
      a = await startRespql(backend, { databaseUrl: db.url });
      b = await startRespql(backend, { databaseUrl: db.url });
    });
    after(async () => {
      await Promise.all([a?.server.close(), b?.server.close()]);
      cleanup?.();
    });

    /** WATCH on instance A, `write` on instance B, then MULTI SET EXEC on A: EXEC's reply. */
    async function watchThenWrite(key: string, write: string[]): Promise<unknown> {
      const [watcher, other] = await Promise.all([RawClient.connect(a.port), RawClient.connect(b.port)]);
      try {
        expect(toStrings(await watcher.send('WATCH', key))).to.equal('OK');
        await other.send(...write);
        await watcher.send('MULTI');
        await watcher.send('SET', key, 'from-a');
        return toStrings(await watcher.send('EXEC'));
      } finally {
        await Promise.all([watcher.close(), other.close()]);
      }
    }

    it('a change made through the other instance makes EXEC return the null reply', async () => {
      const setup = await RawClient.connect(b.port);
      await setup.send('SET', 'x:1', 'old');
      await setup.close();
      expect(await watchThenWrite('x:1', ['SET', 'x:1', 'new'])).to.equal(null);
      expect(await watchThenWrite('x:2', ['SET', 'x:2', 'created'])).to.equal(null);
      expect(await watchThenWrite('x:1', ['PEXPIRE', 'x:1', '100000'])).to.equal(null);
      expect(await watchThenWrite('x:1', ['DEL', 'x:1'])).to.equal(null);
    });

    it('without a change through the other instance, EXEC runs', async () => {
      expect(await watchThenWrite('y:1', ['SET', 'y:other', 'v'])).to.deep.equal(['OK']);
    });

    it('deliberate difference (README): a rewrite of the same value and expiry through another instance is not seen', async () => {
      const setup = await RawClient.connect(b.port);
      await setup.send('SET', 'z:1', 'same');
      await setup.close();
      expect(await watchThenWrite('z:1', ['SET', 'z:1', 'same'])).to.deep.equal(['OK']);
    });
  });
}

describe('WATCH and EXEC when the database fails them (sqlite, its file locked by another process)', function () {
  this.timeout(30_000);

  it('a failed EXEC forgets its watches; a failed WATCH makes the next EXEC fail rather than run unguarded', async function () {
    const respql = await startRespql('sqlite', { databaseTimeoutMs: 300 });
    const client = await RawClient.connect(respql.port);
    const holder = new Database(respql.databaseUrl);
    const locked = (reply: unknown) => expect(reply).to.deep.equal({ error: 'ERR database unavailable: database is locked' });
    try {
      expect(toStrings(await client.send('SET', 'k', 'v0'))).to.equal('OK');

      // EXEC cannot reach the database: its reply is the error, and nothing stays watched.
      expect(toStrings(await client.send('WATCH', 'k', 'other'))).to.equal('OK');
      expect(respql.server.watches.watchedKeys).to.equal(2);
      expect(toStrings(await client.send('MULTI'))).to.equal('OK');
      expect(toStrings(await client.send('SET', 'k', 'v1'))).to.equal('QUEUED');
      holder.exec('BEGIN EXCLUSIVE');
      locked(await client.send('EXEC'));
      holder.exec('COMMIT');
      expect(respql.server.watches.watchedKeys).to.equal(0);
      expect(toStrings(await client.send('GET', 'k'))).to.equal('v0');

      // WATCH cannot take its snapshot (of an absent key, which an empty snapshot would match):
      // the transaction after it is not run.
      holder.exec('BEGIN EXCLUSIVE');
      locked(await client.send('WATCH', 'absent'));
      holder.exec('COMMIT');
      expect(toStrings(await client.send('MULTI'))).to.equal('OK');
      expect(toStrings(await client.send('SET', 'absent', 'v2'))).to.equal('QUEUED');
      expect(await client.send('EXEC')).to.equal(null);
      expect(await client.send('GET', 'absent')).to.equal(null);
      expect(respql.server.watches.watchedKeys).to.equal(0);
    } finally {
      holder.close();
      await client.close();
      await respql.stop();
    }
  });
});
