/** The session-traffic tests' driver: connections that each send one request after another, timed per command. */
import { RawClient, encodeCommand } from '../../src/ops/resp-client';
import { CLIENTS } from './options';
import { type Sample, type Test, quantile } from './results';
import type { Target } from './targets';

/**
 * On each of CLIENTS connections, one request after another for `seconds`, each request the
 * commands `request` gives, sent one after another: the session-traffic tests. Ops/s counts
 * commands, latency is per command.
 */
export async function requestTraffic(target: Target, seconds: number, test: Test, request: () => (string | Buffer)[][]): Promise<Sample> {
  const latencies: number[] = [];
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(target.port)));
  const started = performance.now();
  const end = started + seconds * 1000;
  try {
    await Promise.all(
      clients.map(async (client) => {
        // The reply's bytes are enough (readFrame, no decoding): this client is the bottleneck for the fastest targets.
        const timed = async (args: (string | Buffer)[]) => {
          const t = performance.now();
          client.sendRaw(encodeCommand(args));
          const reply = await client.readFrame();
          if (reply[0] === 0x2d /* - */) throw new Error(`${target.name} answered ${reply.toString().trimEnd()}`);
          latencies.push(performance.now() - t);
        };
        while (performance.now() < end) for (const args of request()) await timed(args);
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.destroy()));
  }
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    target: target.name,
    test,
    pipeline: 1,
    rps: latencies.length / elapsedS,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}
