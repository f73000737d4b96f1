/**
 * Neighbouring plain SETs are merged into one statement (PostgreSQL: one multi-row upsert
 * with all values in one binary parameter). Every value must come back byte for byte,
 * whatever its length or bytes, and a key set twice in the run keeps its last value.
 */
import { expect } from 'chai';
import { encodeCommand, RawClient, toStrings, type Reply } from '../support/resp-client';
import { BACKENDS, sqlWorkDuring, useRespqlWithClient } from '../support/respql';
import { prng } from '../support/prng';

for (const backend of BACKENDS) {
  describe(`merged plain SETs on ${backend}`, function () {
    this.timeout(30_000);
    const started = useRespqlWithClient(backend);
    let client: RawClient;
    before(() => (client = started.client));

    it('stores every value of a merged run byte for byte, the last write to a key winning', async function () {
      const random = prng(4);
      const values = new Map<string, Buffer>();
      const commands: Buffer[] = [];
      const set = (key: string, value: Buffer): void => {
        values.set(key, value);
        commands.push(encodeCommand(['SET', key, value]));
      };
      set('empty', Buffer.alloc(0));
      set('all-bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      set("quote'\\key", Buffer.from('\'\\x00,{}"'));
      for (let i = 0; i < 60; i++) {
        const value = Buffer.alloc(Math.floor(random() * 3000));
        for (let j = 0; j < value.length; j++) value[j] = Math.floor(random() * 256);
        set(`k${i % 40}`, value);
      }
      set('empty-again', Buffer.alloc(0));
      const before = toStrings(await client.send('INFO', 'respql')) as string;
      // One write: the whole pipeline arrives in one I/O turn, so the SETs share a batch.
      client.sendRaw(Buffer.concat(commands));
      for (const _ of commands) expect(toStrings(await client.readReply())).to.equal('OK');
      const after = toStrings(await client.send('INFO', 'respql')) as string;
      const maxBatch = Number(/sql_max_batch:(\d+)/.exec(after)?.[1]);
      expect(maxBatch, `${before}\n${after}`).to.be.greaterThan(1);

      const keys = [...values.keys()];
      const got = (await client.send('MGET', ...keys)) as Reply[];
      keys.forEach((key, i) => expect((got[i] as Buffer).equals(values.get(key)!), key).to.equal(true));
    });

    it(
      backend !== 'sqlite'
        ? 'sends a batch of only SETs as its one statement, without BEGIN and COMMIT'
        : 'wraps a batch of only SETs in BEGIN IMMEDIATE and COMMIT',
      async function () {
        const commands = Array.from({ length: 30 }, (_, i) => encodeCommand(['SET', `alone${i}`, `v${i}`]));
        const { statements, batches } = await sqlWorkDuring(client, async () => {
          client.sendRaw(Buffer.concat(commands));
          for (const _ of commands) expect(toStrings(await client.readReply())).to.equal('OK');
          await client.send('SET', 'alone-last', 'v'); // and one SET on its own
        });
        expect(batches).to.be.within(2, 31);
        if (backend !== 'sqlite') {
          // One merged upsert per batch, committing on its own (and the set-up of a connection the
          // pool may have opened meanwhile); with BEGIN and COMMIT it would be 3 per batch.
          expect(statements).to.be.within(batches, batches + 1);
        } else {
          // BEGIN IMMEDIATE and COMMIT around each batch, and one upsert per SET.
          expect(statements).to.equal(2 * batches + commands.length + 1);
        }
        const got = (await client.send('MGET', 'alone0', 'alone29', 'alone-last')) as Buffer[];
        expect(toStrings(got)).to.deep.equal(['v0', 'v29', 'v']);
      },
    );

    it('merges SETEX and PSETEX with SETs into the same run, each key keeping its own expiry', async function () {
      const commands = [
        ['SETEX', 'sx1', '100', 'a'],
        ['PSETEX', 'sx2', '200000', 'b'],
        ['SET', 'sx3', 'c', 'EX', '300'],
        ['SETEX', 'sx4', '0', 'd'], // an error of its own; the others still run
        ['SETEX', 'sx5', '400', 'e'],
        ['SET', 'sx6', 'f'],
      ];
      const replies: unknown[] = [];
      const { statements, batches } = await sqlWorkDuring(client, async () => {
        client.sendRaw(Buffer.concat(commands.map((c) => encodeCommand(c))));
        for (const _ of commands) replies.push(toStrings(await client.readReply()));
      });
      expect(replies).to.deep.equal(['OK', 'OK', 'OK', { error: "ERR invalid expire time in 'setex' command" }, 'OK', 'OK']);
      if (backend !== 'sqlite') expect(statements, `${batches} batches`).to.be.within(batches, batches + 1);
      else expect(statements).to.equal(2 * batches + 5);
      const ttls = [];
      for (const key of ['sx1', 'sx2', 'sx3', 'sx4', 'sx5', 'sx6']) ttls.push(Number(await client.send('PTTL', key)));
      const [t1, t2, t3, t4, t5, t6] = ttls;
      expect(t1).to.be.within(95_000, 100_000);
      expect(t2).to.be.within(195_000, 200_000);
      expect(t3).to.be.within(295_000, 300_000);
      expect(t4).to.equal(-2);
      expect(t5).to.be.within(395_000, 400_000);
      expect(t6).to.equal(-1);
    });

    it('splits a run whose values add up past the merge limit, storing each value whole', async function () {
      // Three 7 MB values: past 16 MB together, so the run is cut; each must still land intact.
      const values = ['x', 'y', 'z'].map((c) => Buffer.alloc(7 * 1024 * 1024, c));
      client.sendRaw(Buffer.concat(values.map((v, i) => encodeCommand(['SET', `big${i}`, v]))));
      for (const _ of values) expect(toStrings(await client.readReply())).to.equal('OK');
      const got = (await client.send('MGET', 'big0', 'big1', 'big2')) as Buffer[];
      got.forEach((g, i) => expect(g.equals(values[i]), `big${i}`).to.equal(true));
    });
  });
}
