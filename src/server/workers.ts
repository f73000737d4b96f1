/**
 * The primary of `--workers N`: it runs the migrations once, starts N worker processes
 * (node:cluster: they share the listening ports, the primary handing out connections in turn)
 * and keeps them running, replacing one that dies. It serves no client itself. It routes what
 * the workers ask of each other (src/server/worker-ipc.ts), serves the Prometheus endpoint
 * with every worker's figures added up, and on SIGTERM, SIGINT or a client's SHUTDOWN stops
 * every worker gracefully, exiting once they all have.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { ParsedCommandLine } from '../config';
import type { Logger } from '../ops/logger';
import { migrate } from '../ops/migrate';
import { DEFAULTS } from '../settings';
import { VERSION } from '../version';
import { WORKER_ENV, type ToPrimary, type ToWorker } from './worker-ipc';

/** How long a worker has to answer another's request (CLIENT LIST, INFO, ...) before it is left out. */
const ASK_TIMEOUT_MS = 2000;
/** Restart delay of a worker that keeps dying before it is ready (a database down, say): doubles up to the max. */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

interface Slot {
  worker: Worker;
  ready: boolean;
}

interface Ask {
  from: Worker;
  id: number;
  waiting: Set<Worker>;
  values: unknown[];
  timer: NodeJS.Timeout;
}

export async function runPrimary(
  parsed: ParsedCommandLine,
  count: number,
  log: Logger,
  firstLine: (err: unknown) => string,
): Promise<void> {
  const options = parsed.options;
  // Once, before any worker starts, so that N workers do not race to migrate.
  if (options.migrate !== false) {
    try {
      await migrate(options);
    } catch (err) {
      log.warning({ err: firstLine(err) }, `cannot start: ${firstLine(err)}`);
      process.exit(1);
    }
  }
  cluster.setupPrimary({ serialization: 'advanced' });
  const slots: Slot[] = [];
  const asks = new Map<number, Ask>();
  let nextAsk = 1;
  /** Per worker index, how many have been started (a replacement's client ids follow its predecessor's). */
  const generations: number[] = [];
  let everReady = false;
  let stopping = false;
  let failed = false;
  let restartDelay = RESTART_MIN_MS;
  let metrics: http.Server | null = null;

  const live = () => slots.filter((s) => s && !s.worker.isDead());
  const send = (w: Worker, msg: ToWorker) => {
    if (w.isConnected()) w.send(msg);
  };
  const finish = (rid: number) => {
    const ask = asks.get(rid);
    if (!ask) return;
    asks.delete(rid);
    clearTimeout(ask.timer);
    send(ask.from, { t: 'answers', id: ask.id, values: ask.values });
  };

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.notice(`${reason}, shutting down ${count} workers`);
    for (const s of live()) send(s.worker, { t: 'stop', reason });
    const limitMs =
      (options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs) + 3 * (options.databaseTimeoutMs ?? DEFAULTS.databaseTimeoutMs) + 1000;
    setTimeout(() => {
      log.warning(`workers took longer than ${limitMs} ms to stop, killing them`);
      for (const s of live()) s.worker.process.kill('SIGKILL');
      process.exit(1);
    }, limitMs).unref();
    metrics?.close();
    metrics?.closeAllConnections();
  };

  const fork = (index: number): void => {
    const worker = cluster.fork({
      [WORKER_ENV.index]: String(index),
      [WORKER_ENV.count]: String(count),
      [WORKER_ENV.generation]: String((generations[index] = (generations[index] ?? -1) + 1)),
    });
    const slot: Slot = { worker, ready: false };
    slots[index] = slot;
    worker.on('message', (msg: ToPrimary) => {
      if (msg.t === 'ready') {
        slot.ready = true;
        restartDelay = RESTART_MIN_MS;
        if (!everReady && slots.length === count && slots.every((s) => s.ready)) {
          everReady = true;
          const bind = options.host ?? DEFAULTS.host;
          log.notice(
            { version: VERSION, workers: count, address: bind, port: msg.port },
            `respql ${VERSION} ready on ${bind}:${msg.port} (${count} workers)`,
          );
        }
      } else if (msg.t === 'ask') {
        const others = live().filter((s) => s.ready && s.worker !== worker);
        const rid = nextAsk++;
        asks.set(rid, {
          from: worker,
          id: msg.id,
          waiting: new Set(others.map((s) => s.worker)),
          values: [],
          timer: setTimeout(() => finish(rid), ASK_TIMEOUT_MS),
        });
        for (const s of others) send(s.worker, { t: 'asked', id: rid, kind: msg.kind, payload: msg.payload });
        if (!others.length) finish(rid);
      } else if (msg.t === 'answer') {
        const ask = asks.get(msg.id);
        if (!ask?.waiting.delete(worker)) return;
        ask.values.push(msg.value);
        if (!ask.waiting.size) finish(msg.id);
      } else if (msg.t === 'shutdown') {
        stop(msg.reason);
      }
    });
    worker.on('exit', (code, signal) => {
      for (const [rid, ask] of asks) if (ask.waiting.delete(worker) && !ask.waiting.size) finish(rid);
      if (code !== 0) failed = true;
      if (stopping) {
        if (!live().length) {
          log.notice('respql is now ready to exit, bye bye');
          process.exit(failed ? 1 : 0);
        }
        return;
      }
      // One that could not start at all (bad settings, no database): the server cannot start.
      if (!everReady && !slot.ready) {
        stop(`worker ${index} exited (${signal ?? `code ${code}`}) before it was ready`);
        return;
      }
      failed = false;
      log.warning({ worker: index }, `worker ${index} exited (${signal ?? `code ${code}`}), starting a new one in ${restartDelay} ms`);
      setTimeout(() => stopping || fork(index), restartDelay);
      if (!slot.ready) restartDelay = Math.min(RESTART_MAX_MS, restartDelay * 2);
    });
  };

  for (let i = 0; i < count; i++) fork(i);

  if (options.metricsPort != null) {
    // Every worker's registry, added up (counters summed; prom-client's cluster aggregation).
    const registry = new AggregatorRegistry();
    metrics = http.createServer((req, res) => {
      if ((req.url ?? '/').split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('respql serves its metrics at /metrics\n');
        return;
      }
      registry.clusterMetrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    const host = options.metricsHost ?? options.host ?? DEFAULTS.host;
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      metrics!.once('error', reject);
      metrics!.listen(options.metricsPort!, host, () => resolve(metrics!.address() as AddressInfo));
    }).catch((err) => {
      log.warning({ err: firstLine(err) }, `cannot start: metrics endpoint: ${firstLine(err)}`);
      stop('metrics endpoint failed');
      return null;
    });
    if (address) {
      const shown = address.address.includes(':') ? `[${address.address}]` : address.address;
      log.notice({ metrics: `http://${shown}:${address.port}/metrics` }, `Prometheus metrics on http://${shown}:${address.port}/metrics`);
    }
  }

  process.on('SIGTERM', () => stop('SIGTERM received'));
  process.on('SIGINT', () => {
    if (stopping) {
      log.warning('SIGINT received again, exiting now');
      for (const s of live()) s.worker.process.kill('SIGKILL');
      process.exit(1);
    }
    stop('SIGINT received');
  });
}
