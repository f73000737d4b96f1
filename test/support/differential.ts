/**
 * Differential testing: the same command scripts run against a real redis-server and
 * against respql on each backend; the replies must be identical. This is how we show that
 * the expected replies are Redis's, not ours.
 *
 * A script is a list of argv arrays. Each script runs on a fresh connection; scripts use
 * their own keys (prefix them) so no flush is needed between them.
 */
import { expect } from 'chai';
import { encodeCommand, RawClient, toStrings } from './resp-client';
import { startRedisServer, type RedisServer } from './redis-server';
import { BACKENDS, startRespql, type Backend, type RunningRespql } from './respql';

export interface Script {
  name: string;
  commands: string[][];
}

/** Runs a script and returns each reply in comparable form (errors as {error}). */
export async function runScript(port: number, commands: string[][]): Promise<unknown[]> {
  const client = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    for (const argv of commands) out.push(toStrings(await client.send(...argv)));
    return out;
  } finally {
    await client.close();
  }
}

/** Sends a whole script in one write (one pipeline) and returns its replies in order. */
export async function runPipelined(port: number, script: string[][]): Promise<unknown[]> {
  const client = await RawClient.connect(port);
  try {
    client.sendRaw(Buffer.concat(script.map((argv) => encodeCommand(argv))));
    const replies: unknown[] = [];
    for (let i = 0; i < script.length; i++) replies.push(toStrings(await client.readReply()));
    return replies;
  } finally {
    await client.close();
  }
}

/** Remaining-time replies move while a script runs: equal within this much. */
const CLOCK_TOLERANCE: Record<string, number> = { TTL: 1, PTTL: 1000 };

/**
 * Pairs each command with its reply, so a failure shows which command differed. A TTL or
 * PTTL reply within the clock tolerance of the reference is shown as the reference's.
 */
export function transcript(commands: string[][], replies: unknown[], reference: unknown[] = replies): string[] {
  return commands.map((argv, i) => {
    let reply = replies[i];
    const tolerance = CLOCK_TOLERANCE[argv[0].toUpperCase()];
    const ref = reference[i];
    if (tolerance && typeof reply === 'number' && typeof ref === 'number' && reply >= 0 && ref >= 0 && Math.abs(reply - ref) <= tolerance) {
      reply = ref;
    }
    return `${argv.join(' ')} -> ${JSON.stringify(reply)}`;
  });
}

/**
 * Starts a reference redis-server and respql on `backend` for the enclosing describe block
 * (before/after hooks); read `.redis` and `.respql` inside the tests.
 */
export function usePeers(backend: Backend): { readonly redis: RedisServer; readonly respql: RunningRespql } {
  const peers = {} as { redis: RedisServer; respql: RunningRespql };
  before(async () => {
    [peers.redis, peers.respql] = await Promise.all([startRedisServer(), startRespql(backend)]);
  });
  after(async () => {
    await Promise.all([peers.redis?.stop(), peers.respql?.stop()]);
  });
  return peers;
}

/**
 * Declares, for each backend, one test per script comparing respql with redis-server.
 * `prepare` may rewrite a script per run (e.g. to insert absolute times).
 */
export function describeDifferential(title: string, scripts: Script[] | (() => Script[])): void {
  for (const backend of BACKENDS) {
    describe(`differential vs redis-server: ${title} (${backend})`, () => {
      const peers = usePeers(backend);
      for (const script of typeof scripts === 'function' ? scripts() : scripts) {
        it(script.name, async () => {
          // The two servers are independent: run the script on both at once.
          const [expected, actual] = await Promise.all([
            runScript(peers.redis.port, script.commands),
            runScript(peers.respql.port, script.commands),
          ]);
          expect(transcript(script.commands, actual, expected)).to.deep.equal(transcript(script.commands, expected));
        });
      }
    });
  }
}
