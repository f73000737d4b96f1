/**
 * A batch of only reads (plain GETs and EXISTS, and commands flagged `readonly`: MGET, TTL,
 * STRLEN, TYPE, DBSIZE, SCAN, ...) commits nothing. On SQLite it must not take the write lock
 * (BEGIN IMMEDIATE) nor wait for a WAL flush of its own; on PostgreSQL it runs as a READ ONLY
 * transaction. Every reply must still be right.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { encodeCommand, RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, useRespqlWithClient } from '../support/respql';

const READS = [
  ['MGET', 'r:a', 'r:b', 'r:none'],
  ['TTL', 'r:a'],
  ['PTTL', 'r:none'],
  ['STRLEN', 'r:b'],
  ['TYPE', 'r:a'],
  ['EXISTS', 'r:a', 'r:none'],
  ['GET', 'r:b'],
  ['DBSIZE'],
  ['SCAN', '0', 'MATCH', 'r:*', 'COUNT', '100'],
];

for (const backend of BACKENDS) {
  describe(`batches of only reads (${backend})`, function () {
    this.timeout(30_000);
    const started = useRespqlWithClient(backend);
    let client: RawClient;

    before(async function () {
      client = started.client;
      expect(toStrings(await client.send('SET', 'r:a', '1', 'EX', '100'))).to.equal('OK');
      expect(toStrings(await client.send('SET', 'r:b', 'hello'))).to.equal('OK');
    });

    async function pipelinedReads(): Promise<unknown[]> {
      client.sendRaw(Buffer.concat(READS.map((argv) => encodeCommand(argv))));
      const replies: unknown[] = [];
      for (const _ of READS) replies.push(toStrings(await client.readReply()));
      return replies;
    }

    function expectRightReplies(replies: unknown[]): void {
      const [mget, ttl, pttl, strlen, type, exists, get, dbsize, scan] = replies;
      expect(mget).to.deep.equal(['1', 'hello', null]);
      expect(ttl).to.be.within(99, 100);
      expect([pttl, strlen, type, exists, get, dbsize]).to.deep.equal([-2, 5, 'string', 1, 'hello', 2]);
      expect((scan as [string, string[]])[1].sort()).to.deep.equal(['r:a', 'r:b']);
    }

    it('answers them right, and (SQLite) without a WAL flush of their own', async function () {
      const flushes = async () => Number(/sql_wal_flushes:(\d+)/.exec(toStrings(await client.send('INFO', 'respql')) as string)?.[1]);
      const before = await flushes();
      for (let round = 0; round < 5; round++) expectRightReplies(await pipelinedReads());
      // INFO's own empty transaction (not a read-only command) may flush once between the readings.
      if (backend === 'sqlite') expect((await flushes()) - before).to.be.at.most(1);
    });

    if (backend === 'sqlite') {
      it('are answered while another process holds the write lock on the file', async function () {
        const holder = new Database(started.respql.databaseUrl);
        try {
          holder.exec('BEGIN IMMEDIATE');
          const started = performance.now();
          expectRightReplies(await pipelinedReads());
          // Well within the 5 s database timeout that a write would wait out.
          expect(performance.now() - started).to.be.below(2000);
          holder.exec('COMMIT');
        } finally {
          holder.close();
        }
      });
    }
  });
}
