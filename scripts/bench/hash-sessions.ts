/**
 * Hash session traffic, as Spring Session saves a session on every request: on each of CLIENTS
 * connections, one request after another, read a random session (HGETALL), then save it (HSET
 * of two fields: lastAccessedTime and maxInactiveInterval) and move its expiry (EXPIRE).
 * Sessions are hashes of four fields, one of them a VALUE_SIZE attribute, like the string
 * traffic's values. Ops/s counts commands, latency is per command, as sessionTraffic's.
 */
import { RawClient, encodeCommand } from '../../src/ops/resp-client';
import { VALUE_SIZE } from './options';
import type { Sample } from './results';
import type { Target } from './targets';
import { requestTraffic } from './traffic';

export const HASH_SESSION_LABEL = 'hash session traffic (HGETALL, then HSET of 2 fields and EXPIRE)';
/** Sessions in the hash traffic's key space (pre-filled over the protocol, so fewer than the string traffic's keys). */
export const HASH_SESSIONS = 10_000;
const TTL = '1800';

const hashKeyName = (i: number): string => `spring:session:sessions:${String(i).padStart(12, '0')}`;

/** Writes HASH_SESSIONS session hashes, pipelined (set-up, not measured). */
export async function prefillHashSessions(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  const attribute = Buffer.alloc(VALUE_SIZE, 'a');
  try {
    const chunk = 500;
    for (let start = 0; start < HASH_SESSIONS; start += chunk) {
      const end = Math.min(HASH_SESSIONS, start + chunk);
      const requests: Buffer[] = [];
      for (let i = start; i < end; i++) {
        const fields = ['creationTime', '1700000000000', 'lastAccessedTime', '1700000000000', 'maxInactiveInterval', TTL];
        requests.push(encodeCommand(['HSET', hashKeyName(i), ...fields, 'sessionAttr:data', attribute]));
      }
      client.sendRaw(Buffer.concat(requests));
      for (let i = start; i < end; i++) {
        const reply = await client.readFrame();
        if (reply[0] === 0x2d /* - */) throw new Error(`pre-filling session hashes: ${reply.toString().trimEnd()}`);
      }
    }
  } finally {
    await client.destroy();
  }
}

export function hashSessionTraffic(target: Target, seconds: number): Promise<Sample> {
  return requestTraffic(target, seconds, 'HASH_SESSION', () => {
    const key = hashKeyName(Math.floor(Math.random() * HASH_SESSIONS));
    return [
      ['HGETALL', key],
      ['HSET', key, 'lastAccessedTime', String(Date.now()), 'maxInactiveInterval', TTL],
      ['EXPIRE', key, TTL],
    ];
  });
}
