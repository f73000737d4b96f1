/**
 * What scripts return to a RESP3 client (HELLO 3), byte for byte against redis-server: booleans
 * after redis.setresp(3), doubles, maps, sets and nulls in RESP3's own types.
 */
import { expect } from 'chai';
import { encodeCommand, RawClient } from '../support/resp-client';
import { usePeers } from '../support/differential';
import { BACKENDS } from '../support/respql';

const EVALS = [
  'return true',
  'return false',
  'redis.setresp(3) return true',
  'redis.setresp(3) return false',
  'return {double=1.5}',
  "return {map={x='y'}}",
  'return {set={z=true}}',
  'return nil',
  "return redis.call('get', 'lua:resp3:none')",
  "redis.setresp(3) return redis.call('get', 'lua:resp3:none') == nil",
  "redis.setresp(3) local r = redis.call('hello') return 1",
  "return {1, 'two', {ok='three'}}",
];

/** The raw bytes of each EVAL's reply on a RESP3 connection. */
async function replies(port: number): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    client.sendRaw(encodeCommand(['HELLO', '3']));
    // HELLO's map ends with its empty modules array.
    await client.readRaw({ until: 'modules\r\n*0\r\n', timeoutMs: 5000 });
    const out: string[] = [];
    for (const body of EVALS) {
      client.sendRaw(encodeCommand(['EVAL', body, '0']));
      out.push(`${body} -> ${JSON.stringify((await client.readRaw({ until: '\r\n', timeoutMs: 5000 })).toString('latin1'))}`);
    }
    return out;
  } finally {
    await client.close();
  }
}

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: script replies to a RESP3 client (${backend})`, function () {
    const peers = usePeers(backend);
    it('are the same bytes', async function () {
      expect(await replies(peers.respql.port)).to.deep.equal(await replies(peers.redis.port));
    });
  });
}
