/**
 * PENDING (rename to session-startup.test.ts when keyspace events land): Spring Session's
 * RedisIndexedSessionRepository start-up, CONFIG GET / SET notify-keyspace-events (Redis reads
 * `Egx` back as `gxE`), against respql and redis-server 7.0. It needs keyspace notifications,
 * not hashes: on main respql answers CONFIG SET notify-keyspace-events with the unknown-option error.
 */
import { springStartupScripts } from './scripts/session-clients';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('Spring Session start-up (keyspace events)', springStartupScripts);
