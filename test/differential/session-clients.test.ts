/**
 * The command sequences of Spring Session (RedisSessionRepository, RedisIndexedSessionRepository)
 * and ASP.NET Core RedisCache, replayed against respql and redis-server 7.0. Spring's start-up
 * (CONFIG GET/SET notify-keyspace-events) is in session-startup.test.ts.
 */
import { sessionScripts } from './scripts/session-clients';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('session libraries on hashes and sets', sessionScripts());
