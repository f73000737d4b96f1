/**
 * The optional Prometheus endpoint (--metrics-port): GET /metrics in the text exposition
 * format, from a registry of this server's own (never prom-client's global one, so servers
 * in one process do not mix).
 *
 * Counters are read at scrape time from the same plain numbers INFO prints (commands/stats.ts,
 * the engine's and the sweeper's figures), so INFO and Prometheus always agree and the hot
 * path pays nothing for them. Only the two histograms are observed as things happen: command
 * latency (a plain bucket array per command, kept in its CommandStat: no allocation and no
 * label hashing per command, which prom-client's labelled children do) and commit batch size.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { ServerContext } from '../commands/context';
import type { CommandStat, LatencyObserver } from '../commands/stats';

/** Command latency buckets, seconds: 50 µs (an in-memory reply) to 2.5 s (a stalled database). */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Commands per group commit. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** One command's latency histogram: counts per bucket, as plain numbers. */
class CommandLatency implements LatencyObserver {
  readonly counts = new Float64Array(LATENCY_BUCKETS.length);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** The per-command latency histograms in prom-client's exposition shape (what a Histogram's get() returns). */
function latencyMetric(histograms: ReadonlyMap<string, CommandLatency>) {
  const name = 'respql_command_duration_seconds';
  const help = "Time from a command's parse to its reply being ready, commit included";
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [command, h] of histograms) {
        if (!h.count) continue;
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += h.counts[i];
          values.push({ metricName: `${name}_bucket`, labels: { le, command }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', command }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: { command }, value: h.sum });
        values.push({ metricName: `${name}_count`, labels: { command }, value: h.count });
      }
      return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
    },
  };
}

/** A counter whose value is read from a plain number at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** Builds the registry for one server: its metrics, plus Node's process metrics. */
export function createRegistry(ctx: ServerContext): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const s = ctx.stats;

  new Gauge({
    name: 'respql_build_info',
    help: 'respql version and storage backend (always 1)',
    labelNames: ['version', 'backend'],
    registers: [registry],
    collect() {
      this.set({ version: ctx.version, backend: ctx.engine.backend }, 1);
    },
  });

  // Commands, by Redis 7's full name ('get', 'config|get'), as INFO commandstats lists them.
  const perCommand = (name: string, help: string, read: (c: CommandStat) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['command'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of ctx.commandStats.used()) this.inc({ command: c.name }, read(c));
      },
    });
  perCommand('respql_commands_total', 'Commands run, by name (INFO commandstats calls)', (c) => c.calls);
  perCommand('respql_commands_failed_total', 'Commands that answered an error (failed_calls)', (c) => c.failedCalls);
  perCommand(
    'respql_commands_rejected_total',
    'Commands refused before running: arity, auth, MULTI (rejected_calls)',
    (c) => c.rejectedCalls,
  );
  const latencies = new Map<string, CommandLatency>();
  ctx.commandStats.observeLatency((command) => {
    const h = new CommandLatency();
    latencies.set(command, h);
    return h;
  });
  registry.registerMetric(latencyMetric(latencies) as unknown as Metric);
  readCounter(registry, 'respql_commands_processed_total', 'All commands run (INFO total_commands_processed)', () => s.commandsProcessed);
  readCounter(registry, 'respql_error_replies_total', 'Error replies sent (INFO total_error_replies)', () => s.errorReplies);
  readCounter(registry, 'respql_keyspace_hits_total', 'Key reads that found the key (INFO keyspace_hits)', () => s.keyspaceHits);
  readCounter(
    registry,
    'respql_keyspace_misses_total',
    'Key reads that did not find the key (INFO keyspace_misses)',
    () => s.keyspaceMisses,
  );

  // Connections.
  new Gauge({
    name: 'respql_connected_clients',
    help: 'Client connections open now (INFO connected_clients)',
    registers: [registry],
    collect() {
      this.set(ctx.clients.size);
    },
  });
  readCounter(
    registry,
    'respql_connections_received_total',
    'Connections accepted (INFO total_connections_received)',
    () => s.connectionsReceived,
  );
  readCounter(
    registry,
    'respql_rejected_connections_total',
    'Connections refused at maxclients (INFO rejected_connections)',
    () => s.rejectedConnections,
  );
  readCounter(registry, 'respql_net_input_bytes_total', 'Bytes read from clients (INFO total_net_input_bytes)', () => s.netInputBytes);
  readCounter(registry, 'respql_net_output_bytes_total', 'Bytes written to clients (INFO total_net_output_bytes)', () => s.netOutputBytes);

  // The database.
  const e = ctx.engine.stats;
  readCounter(
    registry,
    'respql_db_statements_total',
    'SQL statements sent to the database (round trips on PostgreSQL)',
    () => e.statements,
  );
  readCounter(registry, 'respql_db_errors_total', 'SQL statements that failed', () => e.statementErrors);
  readCounter(
    registry,
    'respql_db_retries_total',
    'Batches run again after the database undid them (serialization failure, deadlock)',
    () => e.retries,
  );
  readCounter(registry, 'respql_db_transactions_total', 'Group commits (transactions committed)', () => e.transactions);
  const batches = new Histogram({
    name: 'respql_commit_batch_size',
    help: 'Commands committed together in one transaction (group commit)',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  ctx.engine.batchObserver = (size) => batches.observe(size);

  // The expiry sweeper.
  readCounter(registry, 'respql_sweeper_runs_total', 'Full expiry sweeps', () => ctx.sweeper.runs);
  readCounter(
    registry,
    'respql_sweeper_deleted_keys_total',
    'Expired rows deleted by the sweeper (INFO sweeper_deleted_keys)',
    () => ctx.sweeper.deleted,
  );
  return registry;
}

/** The HTTP listener for GET /metrics. */
export class MetricsEndpoint {
  private readonly http: http.Server;
  private registry: Registry | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly port: number,
    private readonly host: string,
  ) {
    this.http = http.createServer((req, res) => this.handle(req, res));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('respql serves its metrics at /metrics\n');
      return;
    }
    const registry = this.registry!;
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
  }

  /** Registers the metrics (from now on latency and batch sizes are observed) and listens. */
  listen(): Promise<AddressInfo> {
    this.registry ??= createRegistry(this.ctx);
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.port, this.host, () => {
        this.http.off('error', reject);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.http.address() as AddressInfo | null;
  }

  close(): Promise<void> {
    if (!this.http.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      // A scraper's keep-alive connection would hold close() open.
      this.http.closeAllConnections();
    });
  }
}
