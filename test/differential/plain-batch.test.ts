/**
 * Plain operations in one batch are regrouped: all the GETs of a batch in one statement, all
 * its SETs in another, then EXPIREs and DELs (see planBatch in src/store/batch-plan.ts), with
 * each key's operations kept in order. Whole pipelines sent in one write (so that they share
 * a batch) must get exactly redis-server's replies, WATCH included, and on PostgreSQL a batch
 * of GETs and EXPIREs of many keys must be a few statements, not one per command.
 */
import { expect } from 'chai';
import { encodeCommand, RawClient, toStrings } from '../support/resp-client';
import { runPipelined, transcript, usePeers } from '../support/differential';
import { BACKENDS, sqlWorkDuring } from '../support/respql';
import { prng } from '../support/prng';

/** A random pipeline of plain commands over a few keys, so that the same key recurs in every kind and order. */
function randomScript(seed: number, length: number): string[][] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const keys = ['pb:a', 'pb:b', 'pb:c', 'pb:d', 'pb:e'];
  const later = String(Math.floor(Date.now() / 1000) + 3600);
  const makers: (() => string[])[] = [
    () => ['GET', pick(keys)],
    () => ['SET', pick(keys), `v${Math.floor(random() * 1000)}`],
    () => ['SET', pick(keys), `v${Math.floor(random() * 1000)}`, 'EX', '100'],
    () => ['SETEX', pick(keys), '200', `x${Math.floor(random() * 1000)}`],
    () => ['PSETEX', pick(keys), '300000', `y${Math.floor(random() * 1000)}`],
    () => ['EXPIRE', pick(keys), '400'],
    () => ['PEXPIRE', pick(keys), '500000'],
    () => ['EXPIREAT', pick(keys), later],
    () => ['DEL', pick(keys)],
    () => ['DEL', pick(keys), pick(keys), pick(keys)],
    () => ['UNLINK', pick(keys), 'pb:none'],
    () => ['EXISTS', pick(keys), pick(keys)],
    // Not plain: each ends a span of plain commands.
    () => ['TTL', pick(keys)],
    () => ['EXPIRE', pick(keys), '600', 'NX'],
  ];
  return [['DEL', ...keys], ...Array.from({ length }, () => pick(makers)())];
}

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: plain commands regrouped in one batch (${backend})`, function () {
    this.timeout(60_000);
    const peers = usePeers(backend);

    for (const seed of [1, 2, 3]) {
      it(`a random pipeline of GET, EXISTS, SET, SETEX, PSETEX, EXPIRE, PEXPIRE, EXPIREAT, DEL and UNLINK on five keys (seed ${seed})`, async () => {
        const script = randomScript(seed, 300);
        const expected = await runPipelined(peers.redis.port, script);
        const got = await runPipelined(peers.respql.port, script);
        const want = transcript(script, expected);
        const have = transcript(script, got, expected);
        // The commands whose replies differ, each with its place in the script, so a failure names them.
        const differences = have.map((line, i) => (line === want[i] ? null : `#${i} ${line} (redis-server: ${want[i]})`)).filter(Boolean);
        expect(differences).to.deep.equal([]);
      });
    }

    it('WATCH sees an EXPIRE or DEL that changed the key, and not one that found no key', async () => {
      const script = [
        ['DEL', 'w:gone', 'w:here', 'w:x'],
        ['SET', 'w:here', 'v'],
        ['WATCH', 'w:gone'],
        ['EXPIRE', 'w:gone', '100'],
        ['DEL', 'w:gone'],
        ['MULTI'],
        ['SET', 'w:x', '1'],
        ['EXEC'],
        ['WATCH', 'w:here'],
        ['EXPIRE', 'w:here', '100'],
        ['MULTI'],
        ['SET', 'w:x', '2'],
        ['EXEC'],
        ['WATCH', 'w:here'],
        ['DEL', 'w:gone', 'w:here'],
        ['MULTI'],
        ['SET', 'w:x', '3'],
        ['EXEC'],
        ['GET', 'w:x'],
      ];
      const expected = await runPipelined(peers.redis.port, script);
      expect(expected.slice(-1)).to.deep.equal(['1']);
      expect(await runPipelined(peers.respql.port, script)).to.deep.equal(expected);
    });

    it('runs a batch of GETs and EXPIREs of many keys as one statement of each kind (PostgreSQL: without BEGIN and COMMIT)', async function () {
      const client = await RawClient.connect(peers.respql.port);
      try {
        const sessions = Array.from({ length: 20 }, (_, i) => `s:${i}`);
        for (const key of sessions) await client.send('SET', key, 'data', 'EX', '60');
        // The request of 20 users at once: read the session, then touch it (connect-redis's GET and EXPIRE).
        const script = sessions.flatMap((key) => [
          ['GET', key],
          ['EXPIRE', key, '3600'],
        ]);
        const replies: unknown[] = [];
        const { statements, batches } = await sqlWorkDuring(client, async () => {
          client.sendRaw(Buffer.concat(script.map((argv) => encodeCommand(argv))));
          for (const _ of script) replies.push(toStrings(await client.readReply()));
        });
        expect(replies).to.deep.equal(sessions.flatMap(() => ['data', 1]));
        expect(batches).to.be.within(1, 3);
        if (backend === 'postgres') {
          // Per batch: the GETs, then the EXPIREs committing on their own (no BEGIN and COMMIT
          // for one writing statement); and the set-up of a connection the pool may have opened.
          expect(statements, `${batches} batches`).to.be.at.most(2 * batches + 1);
        } else {
          // Per batch: BEGIN IMMEDIATE, the GETs, COMMIT; each expiry a statement of its own (in-process, no round trip).
          expect(statements, `${batches} batches`).to.be.at.most(3 * batches + sessions.length);
        }
        for (const key of sessions.slice(0, 3)) expect(Number(await client.send('TTL', key))).to.be.within(3590, 3600);
      } finally {
        await client.close();
      }
    });
  });
}
