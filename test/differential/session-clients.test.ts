/**
 * PENDING (rename to session-clients.test.ts when merging with the hashes branch, issue 16):
 * the command sequences of Spring Session (RedisSessionRepository, RedisIndexedSessionRepository)
 * and ASP.NET Core RedisCache, replayed against respql and redis-server 7.0.
 */
import { sessionScripts, springStartupScripts } from './scripts/session-clients';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('session libraries on hashes and sets', sessionScripts());
// Needs CONFIG GET/SET notify-keyspace-events (keyspace events), not only hashes: may stay pending.
describeShapedDifferential('Spring Session start-up (keyspace events)', springStartupScripts);
