/** Lock traffic: phpredis's session locking, Redlock and Laravel's locks, released by a Lua script. */
import { RawClient, replyText } from '../../src/ops/resp-client';
import { KEYSPACE } from './options';
import type { Sample } from './results';
import type { Target } from './targets';
import { requestTraffic } from './traffic';

export const LOCK_LABEL = 'lock traffic (SET NX PX, then EVALSHA of the release script)';
/** The lock release of Redlock, phpredis's session locking and Laravel (GET, compare, DEL). */
export const LOCK_RELEASE = 'if redis.call("get",KEYS[1]) == ARGV[1] then\n    return redis.call("del",KEYS[1])\nelse\n    return 0\nend';

/**
 * On each connection, take a lock on a random key (SET key token NX PX 30000), then release it
 * with EVALSHA of LOCK_RELEASE (loaded once with SCRIPT LOAD). Both commands write.
 */
export async function lockTraffic(target: Target, seconds: number): Promise<Sample> {
  const client = await RawClient.connect(target.port);
  const sha = replyText(await client.send('SCRIPT', 'LOAD', LOCK_RELEASE));
  await client.destroy();
  let n = 0;
  return requestTraffic(target, seconds, 'LOCK', () => {
    const key = `lock:${Math.floor(Math.random() * KEYSPACE)}`;
    const token = `t${n++}`;
    return [
      ['SET', key, token, 'NX', 'PX', '30000'],
      ['EVALSHA', sha, '1', key, token],
    ];
  });
}
