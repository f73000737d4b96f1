#!/usr/bin/env node
/**
 * The `respql` command: serve (default), migrate, ping, import. Settings come from flags
 * and the environment (src/config.ts); a bad one is reported on stderr as one line naming
 * it, with exit status 1. Everything else is logged through pino (src/ops/logger.ts).
 */
import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, helpText, parseCommandLine, parseRedisUrl, type ParsedCommandLine } from './config';
import { importFromRedis, skippedNonString, type ImportSummary } from './ops/import';
import { createLogger, redactText, redactUrl, type Logger } from './ops/logger';
import { migrate } from './ops/migrate';
import { ping } from './ops/ping';
import { createServer, DatabaseUnavailableError, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULTS, type RespqlServer } from './server/server';
import { TlsConfigError } from './server/tls';
import { WORKER_ENV, WorkerLink } from './server/worker-ipc';
import { runPrimary } from './server/workers';
import { VERSION } from './version';

function firstLine(err: unknown): string {
  return redactText(String((err as Error)?.message ?? err).split('\n')[0]);
}

/** The database as it may be shown: a SQLite file's absolute path, or the URL without its password. */
function describeDatabase(databaseUrl: string, backend: string): string {
  if (backend !== 'sqlite') return redactUrl(databaseUrl);
  return path.resolve(databaseUrl.replace(/^sqlite:(\/\/)?/i, ''));
}

/** `--workers`: this process is a worker (one whole server), the primary of several, or the only one. */
async function serve(parsed: ParsedCommandLine, baseLog: Logger): Promise<void> {
  const workers = parsed.serve.workers || os.availableParallelism();
  if (cluster.isPrimary && workers > 1) return runPrimary(parsed, workers, baseLog, firstLine);
  const index = Number(process.env[WORKER_ENV.index]);
  const link = cluster.isWorker
    ? new WorkerLink(
        index,
        Number(process.env[WORKER_ENV.count]),
        Number(process.env[WORKER_ENV.generation]),
        parsed.options.metricsPort != null,
        (reason) => stop(reason),
      )
    : undefined;
  // One log stream: each worker's lines carry its index.
  const log = link ? (baseLog.child({ worker: index }) as Logger) : baseLog;
  log.debug(
    {
      port: parsed.options.port ?? DEFAULTS.port,
      bind: parsed.options.host ?? DEFAULTS.host,
      database: redactUrl(parsed.options.databaseUrl ?? DEFAULTS.databaseUrl),
      table: parsed.options.table ?? DEFAULTS.table,
      migrate: parsed.options.migrate ?? true,
    },
    'starting',
  );
  let server: RespqlServer;
  const stop = stopper(log, () => server, parsed.options);
  try {
    server = createServer({
      ...parsed.options,
      // The primary migrated, and serves the metrics of every worker.
      ...(link && { worker: link, migrate: false, metricsPort: undefined }),
      onError: (err) => log.warning({ err: firstLine(err) }, `sweeper: ${firstLine(err)}`),
      onShutdown: (reason) => {
        link?.shutdown(reason);
        stop(reason);
      },
      loglevel: parsed.log.level,
      // CONFIG SET loglevel: the log follows, as redis-server's does.
      onConfigChange: (config) => (log.level = config.loglevel),
    });
  } catch (err) {
    // A bad TLS file is a bad setting: one line naming it, like the settings checked above.
    if (err instanceof TlsConfigError) {
      process.stderr.write(`respql: ${err.message}\n`);
      process.exit(1);
    }
    // Settings the server itself refuses (protected mode, for one).
    log.warning({ err: firstLine(err) }, `cannot start: ${firstLine(err)}`);
    process.exit(1);
  }
  try {
    const address = await server.listen();
    const c = server.config;
    const backend = server.engine.dialect.name;
    const durability = backend === 'sqlite' ? 'WAL, fdatasync before every reply, group commit' : 'synchronous_commit=on, group commit';
    log.notice(
      {
        version: VERSION,
        backend,
        database: describeDatabase(c.databaseUrl, backend),
        table: c.table,
        address: address.address,
        port: c.port,
        tlsPort: c.tlsPort,
        durability,
        cleanupIntervalMs: c.cleanupIntervalMs,
        auth: c.requirepass ? 'required' : 'off',
        users: [...c.users.keys()],
      },
      `${link ? `worker ${index} serving` : `respql ${VERSION} ready`} on ${address.address}:${address.port}${c.tlsPort ? (c.port ? `, TLS on port ${c.tlsPort}` : ' (TLS)') : ''}`,
    );
    link?.ready(address.port);
  } catch (err) {
    const why =
      err instanceof DatabaseUnavailableError
        ? `database ${describeDatabase(server.config.databaseUrl, server.engine.dialect.name)} is unavailable: ${firstLine(err)}`
        : firstLine(err);
    log.warning({ err: firstLine(err) }, `cannot start: ${why}`);
    await server.close().catch(() => undefined);
    process.exit(1);
  }
  const metrics = server.metricsAddress();
  if (metrics) {
    const host = metrics.address.includes(':') ? `[${metrics.address}]` : metrics.address;
    log.notice({ metrics: `http://${host}:${metrics.port}/metrics` }, `Prometheus metrics on http://${host}:${metrics.port}/metrics`);
  }
  process.on('SIGTERM', () => stop('SIGTERM received'));
  // A worker whose primary is gone (killed) stops too.
  if (link) process.on('disconnect', () => stop('the primary process is gone'));
  process.on('SIGINT', () => {
    // A second Ctrl-C does not wait, as in Redis.
    if (stopping) {
      log.warning('SIGINT received again, exiting now');
      process.exit(1);
    }
    stop('SIGINT received');
  });
}

let stopping = false;

/**
 * Graceful shutdown (SIGTERM, SIGINT, SHUTDOWN): close() stops accepting, lets in-flight
 * commands reply and commit (up to --shutdown-timeout, then drops the clients), and closes
 * the pool; exit status 0 once it has.
 */
function stopper(log: Logger, server: () => RespqlServer, options: ParsedCommandLine['options']): (reason: string) => void {
  return (reason) => {
    if (stopping) return;
    stopping = true;
    log.notice(`${reason}, shutting down`);
    // Only if close() itself hung past all of its own bounds.
    const limitMs =
      (options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS) + 3 * (options.databaseTimeoutMs ?? DEFAULTS.databaseTimeoutMs);
    const backstop = setTimeout(() => {
      log.warning(`shutdown took longer than ${limitMs} ms, exiting`);
      process.exit(1);
    }, limitMs);
    backstop.unref();
    server()
      .close()
      .then(
        () => {
          log.notice('respql is now ready to exit, bye bye');
          process.exit(0);
        },
        (err) => {
          log.warning({ err: firstLine(err) }, `shutdown failed: ${firstLine(err)}`);
          process.exit(1);
        },
      );
  };
}

async function runMigrate(parsed: ParsedCommandLine, log: Logger): Promise<number> {
  try {
    const result = await migrate(parsed.options);
    const database = describeDatabase(parsed.options.databaseUrl ?? DEFAULTS.databaseUrl, result.backend);
    const fields = { backend: result.backend, database, table: result.table, applied: result.applied };
    if (result.applied.length) {
      log.notice(fields, `applied ${result.applied.length} migration(s) to table ${result.table}: ${result.applied.join(', ')}`);
    } else {
      log.notice(fields, `table ${result.table} is up to date (${result.completed.length} migration(s) applied before)`);
    }
    return 0;
  } catch (err) {
    log.warning({ err: firstLine(err) }, `migrate failed: ${firstLine(err)}`);
    return 1;
  }
}

async function runPing(parsed: ParsedCommandLine): Promise<number> {
  try {
    process.stdout.write(`${await ping(parsed.options)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`respql: ping failed: ${firstLine(err)}\n`);
    return 1;
  }
}

function describeSummary(s: ImportSummary): string {
  const types = Object.entries(s.skippedTypes)
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  return (
    `import finished: copied ${s.copied} key(s) (${s.withTtl} with TTL), ` +
    `skipped ${skippedNonString(s)} non-string${types ? ` (${types})` : ''}, ` +
    `${s.skippedNotText} not UTF-8 text, ${s.expiredInFlight} expired in flight, ` +
    `in ${(s.durationMs / 1000).toFixed(1)} s`
  );
}

async function runImport(parsed: ParsedCommandLine, log: Logger): Promise<number> {
  const from = parseRedisUrl(parsed.import.from!)!;
  const source = redactUrl(parsed.import.from!);
  const tty = process.stderr.isTTY === true;
  log.verbose({ from: source, match: parsed.import.match, batch: parsed.import.batch }, `importing from ${source}`);
  let pages = 0;
  try {
    const summary = await importFromRedis({
      from,
      match: parsed.import.match,
      batch: parsed.import.batch,
      store: parsed.options,
      onProgress(p) {
        pages++;
        const line = `scanned ${p.scanned}, copied ${p.copied}, skipped ${skippedNonString(p) + p.skippedNotText}, expired ${p.expiredInFlight}`;
        if (tty) process.stderr.write(`\rimporting: ${line}\x1b[K`);
        else if (pages % 100 === 0) log.verbose(p, `importing: ${line}`);
      },
    });
    if (tty && pages) process.stderr.write('\n');
    log.notice({ ...summary, from: source, skippedNonString: skippedNonString(summary) }, describeSummary(summary));
    return 0;
  } catch (err) {
    if (tty && pages) process.stderr.write('\n');
    log.warning({ err: firstLine(err) }, `import failed: ${firstLine(err)}`);
    return 1;
  }
}

async function main(): Promise<void> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`respql: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (parsed.action === 'help') return void process.stdout.write(helpText(parsed.command) + '\n');
  if (parsed.action === 'version') return void process.stdout.write(`respql ${VERSION}\n`);
  if (parsed.action === 'ping') process.exit(await runPing(parsed));

  const log = createLogger(parsed.log);
  if (parsed.action === 'serve') return serve(parsed, log);
  if (parsed.action === 'migrate') process.exit(await runMigrate(parsed, log));
  if (parsed.action === 'import') process.exit(await runImport(parsed, log));
}

void main();
