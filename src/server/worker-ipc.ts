/**
 * `--workers`: what crosses between the primary (src/server/workers.ts) and its worker
 * processes, and a worker's side of it. Each worker is a whole respql server on the shared
 * database; this link only makes the workers answer as one server: CLIENT LIST/KILL, INFO's
 * per-process figures, CONFIG SET/RESETSTAT and SHUTDOWN reach every worker, client ids never
 * collide, pub/sub messages reach every worker's subscribers where the database does not carry
 * them (SQLite), and the primary's Prometheus endpoint adds up every worker's registry.
 *
 * A request goes to the primary, which hands it to every other worker and returns their
 * answers in one message; a worker that does not answer in time is left out.
 */
import { AggregatorRegistry } from 'prom-client';
import { clientListLines, killClients } from '../commands/connection';
import type { PeerRequest, Peers, ServerContext } from '../commands/context';
import { configSet, perProcessInfo, resetStats } from '../commands/server';
import { createRegistry } from '../ops/metrics';
import type { MessageBus, PubSubHub } from '../pubsub/hub';

/** The environment a worker is started with by the primary. */
export const WORKER_ENV = { index: 'RESPQL_WORKER_INDEX', count: 'RESPQL_WORKER_COUNT', generation: 'RESPQL_WORKER_GENERATION' };

/** Worker to primary (the IPC channel uses advanced serialization: Buffers cross as they are). */
export type ToPrimary =
  | { t: 'ready'; port: number }
  | { t: 'ask'; id: number; kind: PeerRequest; payload: unknown }
  | { t: 'answer'; id: number; value: unknown }
  | { t: 'shutdown'; reason: string };

/** Primary to worker. */
export type ToWorker =
  | { t: 'asked'; id: number; kind: PeerRequest; payload: unknown }
  | { t: 'answers'; id: number; values: unknown[] }
  | { t: 'stop'; reason: string };

/** Client ids a worker generation may hand out before the next generation's range (never reached in practice). */
const IDS_PER_GENERATION = 2 ** 32;

/** What each request runs on the worker asked. */
const ANSWERS: Record<PeerRequest, (server: ServerContext, payload: never) => unknown> = {
  'client-list': (server, ids) => clientListLines(ids, server),
  'client-kill': (server, args) => {
    const killed = killClients(args as Buffer[], null, server);
    return typeof killed === 'number' ? killed : 0;
  },
  info: (server, sections) => perProcessInfo(server, sections as string[]),
  'config-set': (server, args) => void configSet(args as Buffer[], server),
  'config-resetstat': (server) => resetStats(server),
  publish: (server, [shard, channel, message]: [boolean, Buffer, Buffer]) => server.pubsub.deliver(shard, channel, message),
  receivers: (server, [shard, channel]: [boolean, Buffer]) => server.pubsub.receivers(shard, channel),
  'pubsub-channels': (server, [shard, pattern]: [boolean, Buffer | null]) => server.pubsub.channels(shard, pattern),
  'pubsub-numsub': (server, [shard, names]: [boolean, Buffer[]]) => server.pubsub.numsub(shard, names),
  'pubsub-patterns': (server) => server.pubsub.patterns(),
};

const sum = (counts: unknown[]) => counts.reduce<number>((n, c) => n + Number(c), 0);

/** One worker's end of the link: its peers (for commands), its pub/sub bus, its client ids. */
export class WorkerLink implements Peers {
  private server: ServerContext | null = null;
  private readonly asks = new Map<number, (values: unknown[]) => void>();
  private nextAsk = 1;
  private nextClient: number;

  constructor(
    readonly index: number,
    readonly count: number,
    generation: number,
    /** Whether the primary serves metrics (--metrics-port): only then are they observed. */
    private readonly metrics: boolean,
    /** Called when the primary stops every worker (SIGTERM, another worker's SHUTDOWN). */
    private readonly onStop: (reason: string) => void,
  ) {
    // Ids interleaved by worker index, and a replacement worker never reuses its predecessor's.
    this.nextClient = generation * IDS_PER_GENERATION;
    process.on('message', (msg: ToWorker) => this.receive(msg));
  }

  /** A unique client id across every worker (Redis's ids only grow). */
  nextClientId(): number {
    return this.nextClient++ * this.count + this.index + 1;
  }

  /** Called once by the server it serves; its metrics go to the primary's endpoint. */
  serve(server: ServerContext): void {
    this.server = server;
    // Observing latencies costs every command a little: not without an endpoint to read them.
    if (!this.metrics) return;
    // Constructing one makes prom-client answer the primary's requests for this worker's metrics.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([createRegistry(server)]);
  }

  ask(kind: PeerRequest, payload: unknown): Promise<unknown[]> {
    const id = this.nextAsk++;
    return new Promise((resolve) => {
      this.asks.set(id, resolve);
      this.send({ t: 'ask', id, kind, payload });
    });
  }

  /**
   * Pub/sub across the workers. Where the database carries messages to every process
   * (PostgreSQL's bus), PUBLISH's count adds the other workers' receivers to this one's;
   * otherwise (SQLite) each message goes to the other workers through the primary, and
   * PUBLISH answers once they have all delivered it, with their receivers counted.
   */
  bus(hub: PubSubHub, database: MessageBus | null): MessageBus {
    if (database) {
      return {
        publish: (shard, channel, message) =>
          Promise.all([database.publish(shard, channel, message), this.ask('receivers', [shard, channel])]).then(
            ([here, others]) => here + sum(others),
          ),
        start: () => database.start(),
        close: () => database.close(),
      };
    }
    return {
      publish: (shard, channel, message) => {
        const here = hub.deliver(shard, channel, message);
        return this.ask('publish', [shard, channel, message]).then((others) => here + sum(others));
      },
      start: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }

  ready(port: number): void {
    this.send({ t: 'ready', port });
  }

  /** SHUTDOWN from a client of this worker: the primary stops the others. */
  shutdown(reason: string): void {
    this.send({ t: 'shutdown', reason });
  }

  private send(msg: ToPrimary): void {
    // The primary is gone: this worker is on its way out (see the CLI's disconnect handler).
    if (process.connected) process.send!(msg);
  }

  private receive(msg: ToWorker): void {
    if (msg.t === 'answers') {
      this.asks.get(msg.id)?.(msg.values);
      this.asks.delete(msg.id);
    } else if (msg.t === 'asked') {
      const server = this.server;
      const value = server ? Promise.resolve().then(() => ANSWERS[msg.kind](server, msg.payload as never)) : Promise.resolve(null);
      void value.then(
        (v) => this.send({ t: 'answer', id: msg.id, value: v }),
        () => this.send({ t: 'answer', id: msg.id, value: null }),
      );
    } else if (msg.t === 'stop') {
      this.onStop(msg.reason);
    }
  }
}
