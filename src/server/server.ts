import net from 'node:net';
import tls from 'node:tls';
import { knex as createKnex, type Knex } from 'knex';
import type { ClientConfig } from 'pg';
import type { ClientState, ConnectionLimits, RuntimeConfig, ServerContext } from '../commands/context';
import { CommandPipeline } from '../commands/pipeline';
import { CommandStats, emptyStats, InstantaneousRates } from '../commands/stats';
import { buildCommandTable } from '../commands/table';
import { knexConfigFor } from '../store/knex-config';
import type { PreparedStatements } from '../store/dialect';
import { SqlEngine } from '../store/sql-engine';
import { Sweeper } from '../store/sweeper';
import { Connection } from './connection';
import { MetricsEndpoint } from '../ops/metrics';
import { acceptsPeer, TlsConfigError, tlsServerOptions, type TlsOptions } from './tls';
import { WatchRegistry } from './watch-registry';
import { VERSION } from '../version';
import { DEFAULT_LIMITS, DEFAULTS } from '../settings';
import { REDIS_COMPAT_VERSION } from '../commands/connection';
import { Scripting } from '../scripting/service';
import { PubSubHub } from '../pubsub/hub';
import { parseNotifyFlags } from '../commands/notify';
import { PostgresBus } from '../pubsub/postgres-bus';
import { ExpiredEvents } from '../pubsub/expiry-events';
import type { WorkerLink } from './worker-ipc';

export type { ConnectionLimits, RuntimeConfig } from '../commands/context';

export interface RespqlOptions {
  /** An existing Knex instance to use (its pool is left open on close). */
  knex?: Knex;
  /** A postgres:// URL or a SQLite file path; used when `knex` is not given. */
  databaseUrl?: string;
  /** TCP port; 0 picks a free one; null = no plain TCP listener (Redis's `port 0`). Default 6379. */
  port?: number | null;
  /** A TLS listener beside (or instead of) the plain one, like redis-server's tls-* settings. */
  tls?: TlsOptions;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Sessions table name. Default `sessions`. */
  table?: string;
  /** How many databases SELECT offers (Redis's `databases`). Default 16. */
  databases?: number;
  /** Expiry sweeper interval in ms; 0 disables. Default 5 minutes. */
  cleanupIntervalMs?: number;
  /** Run pending migrations on listen(). Default true. */
  migrate?: boolean;
  /** Password for the `default` user (AUTH / HELLO AUTH). */
  requirepass?: string | null;
  /** Named users: name -> password (AUTH name pass / HELLO 3 AUTH name pass). */
  users?: Readonly<Record<string, string>>;
  /** Redis's limits, by Redis's names (see DEFAULT_LIMITS). */
  limits?: Partial<Omit<ConnectionLimits, 'outputBuffer'>> & { outputBuffer?: Partial<ConnectionLimits['outputBuffer']> };
  /**
   * Like Redis's protected mode: refuse to listen on a non-loopback address without a
   * password. Default true.
   */
  protectedMode?: boolean;
  /** Port of the Prometheus endpoint (GET /metrics); 0 picks a free one. Default: no endpoint. */
  metricsPort?: number | null;
  /** Address of the metrics endpoint. Default: `host`. */
  metricsHost?: string;
  /** Clock in epoch ms, for tests. */
  clock?: () => number;
  /** Called with errors that have no client to go to (sweeper failures). */
  onError?: (err: unknown) => void;
  /**
   * The longest a command waits for the database, queueing included, before it gets
   * `-ERR database unavailable: ...`; also the connect and pool timeouts. Default 5000 ms.
   */
  databaseTimeoutMs?: number;
  /** PostgreSQL connections at most (SQLite has one). Default 10. */
  poolSize?: number;
  /** PostgreSQL named prepared statements: 'no' behind a transaction pooler (PgBouncer); default 'auto' detects one. */
  preparedStatements?: PreparedStatements;
  /** MariaDB: serve even when its COMMIT is not flushed to disk (innodb_flush_log_at_trx_commit other than 1). Default false. */
  allowLazyCommit?: boolean;
  /** The longest close() waits for clients' in-flight commands before it drops them. Default 10000 ms. */
  shutdownTimeoutMs?: number;
  /** Called when a client's SHUTDOWN begins closing the server, with a line for the log. */
  onShutdown?: (reason: string) => void;
  /** Log verbosity by Redis's names (debug, verbose, notice, warning); CONFIG GET/SET loglevel. Default notice. */
  loglevel?: string;
  /**
   * How often, in ms, the instance holding the expired-events lease deletes the keys whose time
   * has come and raises their `expired` events (while notify-keyspace-events includes x). Default 100; 0 = never.
   */
  expiredEventsIntervalMs?: number;
  /** notify-keyspace-events, with Redis's flag characters (e.g. `Egx`). Default '' (off). */
  notifyKeyspaceEvents?: string;
  /** Called after CONFIG SET changed settings (the CLI's logger follows `loglevel`). */
  onConfigChange?: (config: RuntimeConfig) => void;
  /** busy-reply-threshold (alias lua-time-limit): ms a script runs before other clients get BUSY. Default 5000. */
  busyReplyThresholdMs?: number;
  /** lua-memory-limit: the script worker's heap limit, MB. Default 256. */
  luaMemoryMb?: number;
  /** redis.log lines of scripts (level 0-3, Redis's LOG_*). */
  onScriptLog?: (level: number, message: string) => void;
  /** This server is one worker of `--workers` (set by the CLI): the link to the others. */
  worker?: WorkerLink;
}

export { DEFAULT_LIMITS, DEFAULTS } from '../settings';

export class ProtectedModeError extends Error {}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

export class RespqlServer {
  readonly engine: SqlEngine;
  readonly config: RuntimeConfig;
  private readonly ownsKnex: boolean;
  private readonly sweeper: Sweeper;
  /** `expired` keyspace events (see ExpiredEvents). */
  readonly expiredEvents: ExpiredEvents;
  private readonly tcp: net.Server;
  /** Listens on tls-port when TLS is configured; feeds the same Connection class. */
  private readonly tlsServer: tls.Server | null = null;
  private readonly plainPort: number | null;
  private readonly tlsPort: number;
  private readonly connections = new Map<number, Connection>();
  private readonly clients = new Map<number, ClientState>();
  private readonly context: ServerContext;
  private readonly pipeline: CommandPipeline;
  private readonly metrics: MetricsEndpoint | null;
  private readonly migrateOnListen: boolean;
  readonly limits: ConnectionLimits;
  private closed: Promise<void> | null = null;
  private readonly shutdownTimeoutMs: number;
  private readonly worker: WorkerLink | null;

  /** Every client's WATCHed keys (see WatchRegistry). */
  readonly watches = new WatchRegistry();
  /** Subscriptions on this instance; its bus carries messages to the others. */
  readonly pubsub = new PubSubHub();

  constructor(options: RespqlOptions = {}) {
    // Listener settings first: a bad one must fail before any database connection exists.
    if (options.port === null && options.tls?.port === undefined) {
      throw new TlsConfigError('nothing to listen on: --port is 0 and no --tls-port is set');
    }
    const secure = options.tls?.port !== undefined ? tlsServerOptions(options.tls) : null;
    const databaseUrl = options.databaseUrl ?? DEFAULTS.databaseUrl;
    this.ownsKnex = !options.knex;
    const databaseTimeoutMs = options.databaseTimeoutMs ?? DEFAULTS.databaseTimeoutMs;
    const knex =
      options.knex ??
      createKnex(
        knexConfigFor(databaseUrl, {
          poolSize: options.poolSize,
          timeoutMs: databaseTimeoutMs,
          preparedStatements: options.preparedStatements,
          allowLazyCommit: options.allowLazyCommit,
        }),
      );
    const clock = options.clock ?? Date.now;
    this.config = {
      port: options.port === null ? 0 : (options.port ?? DEFAULTS.port),
      bind: options.host ?? DEFAULTS.host,
      requirepass: options.requirepass ?? null,
      users: new Map(Object.entries(options.users ?? {})),
      tlsPort: 0,
      tlsAuthClients: options.tls?.authClients ?? 'yes',
      table: options.table ?? DEFAULTS.table,
      databases: options.databases ?? DEFAULTS.databases,
      cleanupIntervalMs: options.cleanupIntervalMs ?? DEFAULTS.cleanupIntervalMs,
      loglevel: options.loglevel ?? DEFAULTS.loglevel,
      databaseUrl: options.knex ? '(knex instance)' : databaseUrl,
      protectedMode: options.protectedMode ?? true,
      notifyKeyspaceEvents: parseNotifyFlags(options.notifyKeyspaceEvents ?? '') ?? 0,
      limits: { ...DEFAULT_LIMITS, ...options.limits, outputBuffer: { ...DEFAULT_LIMITS.outputBuffer, ...options.limits?.outputBuffer } },
      busyReplyThresholdMs: options.busyReplyThresholdMs ?? DEFAULT_BUSY_REPLY_THRESHOLD_MS,
      luaMemoryBytes: (options.luaMemoryMb ?? DEFAULT_LUA_MEMORY_MB) * 1024 * 1024,
    };
    this.migrateOnListen = options.migrate ?? true;
    this.limits = this.config.limits;
    this.plainPort = options.port === null ? null : this.config.port;
    if (this.config.protectedMode && !isLoopback(this.config.bind) && this.config.requirepass === null) {
      throw new ProtectedModeError(
        `refusing to listen on non-loopback address ${this.config.bind} without a password (protected mode): ` +
          'set --requirepass, or --protected-mode no',
      );
    }
    this.engine = new SqlEngine(knex, { table: this.config.table, clock, timeoutMs: databaseTimeoutMs });
    // On PostgreSQL messages cross instances through LISTEN/NOTIFY; on SQLite they stay in the process
    // (in the processes of one server: its workers pass them on).
    this.worker = options.worker ?? null;
    const bus =
      this.engine.backend === 'postgres'
        ? new PostgresBus(this.pubsub, pgConnection(knex), this.config.table, databaseTimeoutMs, options.onError)
        : null;
    if (this.worker) this.pubsub.bus = this.worker.bus(this.pubsub, bus);
    else if (bus) this.pubsub.bus = bus;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.sweeper = new Sweeper(this.engine, this.config.cleanupIntervalMs, this.engine.dialect.sweepBatchRows, options.onError);
    this.expiredEvents = new ExpiredEvents(
      this.engine,
      this.pubsub,
      this.config,
      this.sweeper.stats.instanceId,
      options.expiredEventsIntervalMs ?? 100,
      options.onError,
    );
    this.context = {
      version: VERSION,
      startedAt: clock(),
      config: this.config,
      engine: this.engine,
      commands: buildCommandTable(),
      clients: this.clients,
      stats: emptyStats(),
      commandStats: new CommandStats(),
      rates: new InstantaneousRates(() => {
        const s = this.context.stats;
        return { commands: s.commandsProcessed, inputBytes: s.netInputBytes, outputBytes: s.netOutputBytes };
      }),
      sweeper: this.sweeper.stats,
      watches: this.watches,
      pubsub: this.pubsub,
      call: (spec, argv, client, store) => this.pipeline.call(spec, argv, client, store),
      scripting: new Scripting({
        redisVersion: REDIS_COMPAT_VERSION,
        memoryMb: options.luaMemoryMb ?? DEFAULT_LUA_MEMORY_MB,
        busyThresholdMs: () => this.config.busyReplyThresholdMs,
        log: options.onScriptLog,
      }),
      now: clock,
      killClient: (id) => {
        const conn = this.connections.get(id);
        conn?.kill();
        return conn !== undefined;
      },
      requestShutdown: (reason) => {
        options.onShutdown?.(reason);
        // After the current command's turn: its own reply slot is queued first.
        setImmediate(() => void this.close().catch((err) => options.onError?.(err)));
      },
      applyConfig: () => {
        for (const conn of this.connections.values()) conn.applyIdleTimeout();
        options.onConfigChange?.(this.config);
      },
      peers: this.worker,
    };
    this.worker?.serve(this.context);
    this.pipeline = new CommandPipeline(this.context);
    this.metrics =
      options.metricsPort == null ? null : new MetricsEndpoint(this.context, options.metricsPort, options.metricsHost ?? this.config.bind);
    this.tcp = net.createServer((socket) => this.accept(socket));
    this.tlsPort = options.tls?.port ?? 0;
    if (secure) {
      const authClients = this.config.tlsAuthClients;
      this.tlsServer = tls.createServer(secure, (socket) => {
        if (acceptsPeer(socket, authClients)) this.accept(socket);
        else socket.destroy();
      });
      // A failed handshake concerns that client only.
      this.tlsServer.on('tlsClientError', () => undefined);
    }
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size >= this.limits.maxClients) {
      this.context.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      socket.on('error', () => socket.destroy());
      return;
    }
    const conn = new Connection(socket, this.pipeline, this.context.stats, {
      requirePassword: this.config.requirepass !== null,
      limits: this.limits,
      id: this.worker?.nextClientId(),
    });
    const id = conn.state.id;
    this.connections.set(id, conn);
    this.clients.set(id, conn.state);
    this.pubsub.attach(conn.state, (reply) => conn.push(reply));
    this.context.stats.connectionsReceived++;
    socket.on('close', () => {
      this.context.watches.unwatchAll(conn.state);
      this.pubsub.detach(conn.state);
      this.connections.delete(id);
      this.clients.delete(id);
    });
  }

  /**
   * Migrates (unless disabled), starts the sweeper and listens. Resolves with the bound
   * address of the plain TCP listener (of the TLS one when there is no plain one).
   */
  async listen(): Promise<net.AddressInfo> {
    // A database that cannot be reached or written fails start-up, not the first command.
    await this.engine.check().catch((err) => {
      throw new DatabaseUnavailableError((err as Error)?.message ?? String(err));
    });
    if (this.migrateOnListen) await this.engine.migrate();
    if (this.plainPort !== null) this.config.port = (await listenOn(this.tcp, this.plainPort, this.config.bind)).port;
    if (this.tlsServer) this.config.tlsPort = (await listenOn(this.tlsServer, this.tlsPort, this.config.bind)).port;
    await this.pubsub.bus.start();
    await this.metrics?.listen();
    this.context.rates.start();
    this.sweeper.start();
    this.expiredEvents.start();
    return (this.address() ?? this.tlsAddress())!;
  }

  address(): net.AddressInfo | null {
    return this.tcp.address() as net.AddressInfo | null;
  }

  /** The TLS listener's address (null without TLS or before listen). */
  tlsAddress(): net.AddressInfo | null {
    return (this.tlsServer?.address() as net.AddressInfo | null | undefined) ?? null;
  }

  /** The metrics endpoint's address (null when it is off or before listen). */
  metricsAddress(): net.AddressInfo | null {
    return this.metrics?.address() ?? null;
  }

  /** Runs one full expiry sweep now (tests, and the periodic timer). */
  sweep(): Promise<void> {
    return this.sweeper.sweepNow();
  }

  /**
   * Stops accepting, lets in-flight commands reply (for up to shutdownTimeoutMs, then drops
   * the clients still connected), ends connections, stops the sweeper, waits for the last
   * commit, and destroys the Knex pool only if this server created it.
   */
  close(): Promise<void> {
    if (!this.closed) this.closed = this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const wasListening = this.tcp.listening;
    // A running script ends now (as SHUTDOWN NOSAVE ends it in Redis): its writes roll back.
    this.context.scripting.runner.stop('ERR the server is shutting down');
    const stopped = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    const tlsStopped = this.tlsServer?.listening ? new Promise<void>((resolve) => this.tlsServer!.close(() => resolve())) : null;
    // Graceful: every in-flight command replies and every client's socket is flushed and closed.
    const closed = Promise.all([...this.connections.values()].map((c) => c.close())).then(() => Promise.all([stopped, tlsStopped]));
    if (!(await settlesWithin(closed, this.shutdownTimeoutMs))) for (const c of this.connections.values()) c.kill();
    await this.sweeper.stop();
    await this.expiredEvents.stop();
    await this.pubsub.bus.close();
    this.context.rates.stop();
    await this.metrics?.close();
    await this.engine.whenIdle();
    await this.context.scripting.close();
    this.engine.close();
    if (wasListening) await stopped;
    await tlsStopped;
    // Work already handed to the engine has committed or failed (whenIdle above); a pool whose
    // database stopped answering must not hold up the exit.
    if (this.ownsKnex) await settlesWithin(this.engine.knex.destroy(), this.engine.timeoutMs);
  }
}

/** The pg connection settings of a Knex instance (a URL or pg's options), for connections of its own. */
function pgConnection(knex: Knex): ClientConfig {
  const connection = (knex.client as { config: Knex.Config }).config.connection;
  if (typeof connection === 'string') return { connectionString: connection };
  if (connection && typeof connection === 'object') return connection as ClientConfig;
  throw new Error('pub/sub needs the PostgreSQL connection settings as a URL or an object in the Knex configuration');
}

/** Raised by listen() when the database cannot be reached or written. */
export class DatabaseUnavailableError extends Error {}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = DEFAULTS.shutdownTimeoutMs;
export const DEFAULT_BUSY_REPLY_THRESHOLD_MS = 5000;
export const DEFAULT_LUA_MEMORY_MB = 256;

/** Whether `promise` settles within `ms` (it is left running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function listenOn(server: net.Server, port: number, host: string): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/** The library form of the server. */
export function createServer(options: RespqlOptions = {}): RespqlServer {
  return new RespqlServer(options);
}
