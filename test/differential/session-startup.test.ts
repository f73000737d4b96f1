/**
 * Spring Session's RedisIndexedSessionRepository start-up, CONFIG GET / SET notify-keyspace-events
 * (Redis reads `Egx` back as `gxE`), against respql and redis-server 7.0. The events it then
 * listens for on session hashes (del, expired) are compared in notify-typed.test.ts.
 */
import { springStartupScripts } from './scripts/session-clients';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('Spring Session start-up (keyspace events)', springStartupScripts);
