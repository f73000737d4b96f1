/**
 * Differential runs for scripts whose replies include key lists in no defined order
 * (KEYS, SCAN): those lists are sorted before comparing; everything else is compared
 * as the shared harness does (TTL/PTTL within its tolerance).
 */
import { expect } from 'chai';
import { runScript, transcript, type Script } from '../support/differential';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const sortStrings = (v: unknown): unknown => (Array.isArray(v) ? [...v].sort() : v);

/** Puts replies whose order Redis does not define into a canonical order. */
export function canonical(commands: string[][], replies: unknown[]): unknown[] {
  return replies.map((reply, i) => {
    const name = commands[i][0].toUpperCase();
    if (name === 'KEYS') return sortStrings(reply);
    if (name === 'SCAN' && Array.isArray(reply) && reply.length === 2) return [reply[0], sortStrings(reply[1])];
    return reply;
  });
}

export function describeUnorderedDifferential(title: string, scripts: Script[]): void {
  for (const backend of BACKENDS) {
    describe(`differential vs redis-server: ${title} (${backend})`, function () {
      this.timeout(60_000);
      let redis: RedisServer;
      let respql: RunningRespql;
      before(async function () {
        [redis, respql] = await Promise.all([startRedisServer(), startRespql(backend)]);
      });
      after(async function () {
        await Promise.all([redis?.stop(), respql?.stop()]);
      });
      for (const script of scripts) {
        it(script.name, async function () {
          const expected = canonical(script.commands, await runScript(redis.port, script.commands));
          const actual = canonical(script.commands, await runScript(respql.port, script.commands));
          expect(transcript(script.commands, actual, expected)).to.deep.equal(transcript(script.commands, expected));
        });
      }
    });
  }
}
