/**
 * What session libraries built on hashes and sets send, replayed as differential scripts
 * (see ../shapes.ts). Each sequence was read from the library's source:
 *
 * - Spring Session `RedisSessionRepository` (spring-session-data-redis, main branch as of
 *   late 2026, file spring-session-data-redis/src/main/java/org/springframework/session/data/redis/RedisSessionRepository.java):
 *   save() of a new session = HMSET sessions:<id> creationTime, maxInactiveInterval,
 *   lastAccessedTime, sessionAttr:* (opsForHash().putAll) then PEXPIREAT at lastAccessedTime
 *   + maxInactiveInterval (RedisTemplate.expireAt); save() of an existing one first checks
 *   EXISTS (hasKey) and throws "Session was invalidated" on 0; changeSessionId = RENAME;
 *   findById = HGETALL (empty -> no session); deleteById = DEL. removeAttribute writes the
 *   attribute with a null value, which the serializer turns into an empty value.
 * - Spring Session `RedisIndexedSessionRepository` with `RedisSessionExpirationPolicy`
 *   (same tree, RedisIndexedSessionRepository.java and RedisSessionExpirationPolicy.java,
 *   3.x): save = HMSET sessions:<id> delta; principal index: SREM old / SADD
 *   index:...:PRINCIPAL_NAME_INDEX_NAME:<name> <id>; onExpirationUpdated: SREM
 *   expirations:<old minute> expires:<id> (when the minute moved), SADD expirations:<minute>
 *   expires:<id>, EXPIRE expirations:<minute> maxInactive+300, APPEND sessions:expires:<id> ""
 *   + EXPIRE it maxInactive (DEL it when maxInactive is 0; with a negative maxInactive:
 *   APPEND, PERSIST it, PERSIST the session hash), EXPIRE sessions:<id> maxInactive+300;
 *   cleanExpiredSessions = SMEMBERS expirations:<previous minute>, DEL it, EXISTS
 *   sessions:expires:<id> for each; findByPrincipalName = SMEMBERS index then HGETALL each;
 *   deleteById = HGETALL, SREM index, SREM expirations, DEL sessions:expires:<id>, then a
 *   save with maxInactiveInterval 0. (Keyspace events and SUBSCRIBE are not replayed here.)
 * - ASP.NET Core `RedisCache` (dotnet/aspnetcore, src/Caching/StackExchangeRedis/src/RedisCache.cs,
 *   main branch, .NET 9/10): Set = HSET key absexp <ticks|-1> sldexp <ticks|-1> data <bytes>
 *   and, when there is a TTL, EXPIRE key <seconds> in the same pipelined batch (not MULTI);
 *   Get = HMGET key absexp sldexp data, then EXPIRE key <seconds> when sliding; Refresh =
 *   HMGET key absexp sldexp (+ EXPIRE); Remove = DEL. Older releases (e.g. .NET 7,
 *   commit 017c5114) used fields dv / swv / aev inside MULTI HSET EXPIRE EXEC: also replayed.
 *
 * Values the libraries write as binary (JDK serialization, byte[]) are replaced by text
 * stand-ins; binary safety of values is a string-command property tested elsewhere.
 */
import type { ShapedScript } from '../shapes';

export function sessionScripts(now = Date.now()): ShapedScript[] {
  const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  const created = String(now);
  const later = String(now + 5000);
  const expireAt = (last: number) => String(last + 1800 * 1000);
  const id = '33fdd1b6-b496-4b33-9f7d-df96679d32fe';
  const id2 = '9d1a9c0e-0000-4000-8000-3f0c1b2a4d5e';
  const sess = (i: string) => `spring:session:sessions:${i}`;
  const expires = (i: string) => `spring:session:sessions:expires:${i}`;
  const expirations = (ms: number) => `spring:session:expirations:${minute(ms) + 60_000}`;
  const principal = 'spring:session:index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:alice';
  const ticks = (ms: number) => String(BigInt(ms) * 10_000n + 621355968000000000n);

  return [
    {
      name: 'Spring RedisSessionRepository: create, read, update, change id, invalidate',
      steps: [
        [
          'HMSET',
          sess(id),
          'creationTime',
          created,
          'maxInactiveInterval',
          '1800',
          'lastAccessedTime',
          created,
          'sessionAttr:cart',
          '["book"]',
        ],
        ['PEXPIREAT', sess(id), expireAt(now)],
        ['HGETALL', sess(id)],
        ['PTTL', sess(id)],
        ['EXISTS', sess(id)],
        ['HMSET', sess(id), 'lastAccessedTime', later, 'sessionAttr:user', '"alice"'],
        ['PEXPIREAT', sess(id), expireAt(now + 5000)],
        ['HGETALL', sess(id)],
        ['TTL', sess(id)],
        ['HMSET', sess(id), 'sessionAttr:cart', ''],
        ['HGET', sess(id), 'sessionAttr:cart'],
        ['HLEN', sess(id)],
        ['EXISTS', sess(id)],
        ['RENAME', sess(id), sess(id2)],
        ['HMSET', sess(id2), 'lastAccessedTime', later],
        ['PEXPIREAT', sess(id2), expireAt(now + 5000)],
        ['HGETALL', sess(id)],
        ['HGETALL', sess(id2)],
        ['TTL', sess(id2)],
        ['DEL', sess(id2)],
        ['HGETALL', sess(id2)],
        ['EXISTS', sess(id2)],
        ['RENAME', sess(id2), sess(id)],
      ],
    },
    {
      name: 'Spring RedisIndexedSessionRepository: save with expiration policy, principal index, cleanup, delete',
      steps: [
        // save() of a new session with a principal
        [
          'HMSET',
          sess(id),
          'creationTime',
          created,
          'maxInactiveInterval',
          '1800',
          'lastAccessedTime',
          created,
          'sessionAttr:SPRING_SECURITY_CONTEXT',
          'ctx',
        ],
        ['SADD', principal, id],
        ['SADD', expirations(now + 1800_000), `expires:${id}`],
        ['EXPIRE', expirations(now + 1800_000), '2100'],
        ['APPEND', expires(id), ''],
        ['EXPIRE', expires(id), '1800'],
        ['EXPIRE', sess(id), '2100'],
        ['TYPE', expires(id)],
        ['GET', expires(id)],
        ['STRLEN', expires(id)],
        ['TTL', expires(id)],
        ['TTL', sess(id)],
        // a second request a minute later: the expiration bucket moves
        ['HMSET', sess(id), 'lastAccessedTime', String(now + 60_000)],
        ['SREM', expirations(now + 1800_000), `expires:${id}`],
        ['SADD', expirations(now + 1860_000), `expires:${id}`],
        ['EXPIRE', expirations(now + 1860_000), '2100'],
        ['APPEND', expires(id), ''],
        ['EXPIRE', expires(id), '1800'],
        ['EXPIRE', sess(id), '2100'],
        ['EXISTS', expirations(now + 1800_000)],
        ['SMEMBERS', expirations(now + 1860_000)],
        // findByPrincipalName
        ['SMEMBERS', principal],
        ['HGETALL', sess(id)],
        // cleanExpiredSessions for a minute with nothing, then for the bucket
        ['SMEMBERS', 'spring:session:expirations:0'],
        ['DEL', 'spring:session:expirations:0'],
        ['SMEMBERS', expirations(now + 1860_000)],
        ['DEL', expirations(now + 1860_000)],
        ['EXISTS', expires(id)],
        // maxInactiveInterval negative: never expires
        ['HMSET', sess(id), 'maxInactiveInterval', '-1'],
        ['APPEND', expires(id), ''],
        ['PERSIST', expires(id)],
        ['PERSIST', sess(id)],
        ['TTL', expires(id)],
        ['TTL', sess(id)],
        // deleteById
        ['HGETALL', sess(id)],
        ['SREM', principal, id],
        ['SREM', expirations(now + 1860_000), `expires:${id}`],
        ['DEL', expires(id)],
        ['HMSET', sess(id), 'maxInactiveInterval', '0'],
        ['SADD', expirations(now), `expires:${id}`],
        ['EXPIRE', expirations(now), '300'],
        ['DEL', expires(id)],
        ['EXPIRE', sess(id), '300'],
        ['EXISTS', principal],
        ['HGET', sess(id), 'maxInactiveInterval'],
        ['TTL', sess(id)],
        ['SMEMBERS', expirations(now)],
      ],
    },
    {
      name: 'ASP.NET Core RedisCache (.NET 9+): HSET absexp sldexp data + EXPIRE, HMGET + sliding EXPIRE, DEL',
      steps: [
        // Set with sliding expiration 20 min, no absolute
        ['HSET', 'app:item', 'absexp', '-1', 'sldexp', String(20n * 60n * 10_000_000n), 'data', 'payload-1'],
        ['EXPIRE', 'app:item', '1200'],
        ['HMGET', 'app:item', 'absexp', 'sldexp', 'data'],
        ['EXPIRE', 'app:item', '1200'],
        ['TTL', 'app:item'],
        // Refresh
        ['HMGET', 'app:item', 'absexp', 'sldexp'],
        ['EXPIRE', 'app:item', '1200'],
        // Set again (overwrite) with an absolute expiration only
        ['HSET', 'app:item', 'absexp', ticks(now + 3_600_000), 'sldexp', '-1', 'data', 'payload-2'],
        ['EXPIRE', 'app:item', '3600'],
        ['HMGET', 'app:item', 'absexp', 'sldexp', 'data'],
        ['HLEN', 'app:item'],
        // no expiration at all: HSET alone, no TTL
        ['HSET', 'app:forever', 'absexp', '-1', 'sldexp', '-1', 'data', ''],
        ['TTL', 'app:forever'],
        ['HMGET', 'app:forever', 'absexp', 'sldexp', 'data'],
        // a miss
        ['HMGET', 'app:none', 'absexp', 'sldexp', 'data'],
        // Remove
        ['DEL', 'app:item'],
        ['HMGET', 'app:item', 'absexp', 'sldexp', 'data'],
        // a key someone else wrote as a string
        ['SET', 'app:str', 'v'],
        ['HMGET', 'app:str', 'absexp', 'sldexp', 'data'],
      ],
    },
    {
      name: 'ASP.NET Core RedisCache (.NET 7 and older): MULTI HSET dv swv aev EXPIRE EXEC, HMGET, EXPIRE',
      steps: [
        ['MULTI'],
        ['HSET', 'old:item', 'dv', 'payload', 'swv', String(20n * 60n * 10_000_000n), 'aev', ticks(now + 3_600_000)],
        ['EXPIRE', 'old:item', '1200'],
        ['EXEC'],
        ['HMGET', 'old:item', 'dv', 'swv', 'aev'],
        ['EXPIRE', 'old:item', '1200'],
        ['HMGET', 'old:item', 'swv', 'aev'],
        ['MULTI'],
        ['HSET', 'old:item', 'dv', 'payload-2'],
        ['EXEC'],
        ['HGET', 'old:item', 'dv'],
        ['TTL', 'old:item'],
        ['DEL', 'old:item'],
      ],
    },
    {
      name: 'Spring and ASP.NET reads in RESP3 (Lettuce 6 and SE.Redis 2.8 may negotiate HELLO 3)',
      resp3: true,
      steps: [
        ['HMSET', sess(id), 'creationTime', created, 'maxInactiveInterval', '1800', 'lastAccessedTime', created],
        ['HGETALL', sess(id)],
        ['SADD', principal, id],
        ['SMEMBERS', principal],
        ['HSET', 'app:r3', 'absexp', '-1', 'sldexp', '-1', 'data', 'x'],
        ['HMGET', 'app:r3', 'absexp', 'sldexp', 'data'],
        ['HMGET', 'app:none', 'data'],
      ],
    },
  ];
}

/**
 * RedisIndexedSessionRepository's start-up (ConfigureNotifyKeyspaceEventsAction): CONFIG GET
 * notify-keyspace-events, then CONFIG SET with the missing E, g and x flags; a refusal is
 * fatal. Needs keyspace events, which are beyond issue 16: kept apart so the hashes merge can
 * leave it pending. Redis normalizes the flags it answers ("Egx" is read back as "gxE").
 */
export const springStartupScripts: ShapedScript[] = [
  {
    name: 'Spring RedisIndexedSessionRepository start-up: CONFIG GET / SET notify-keyspace-events',
    steps: [
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Egx'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
    ],
  },
];
