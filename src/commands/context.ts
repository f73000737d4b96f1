/**
 * The contract commands are written against: what a command sees of its client, of the
 * server and of the data. src/server implements it; nothing in src/commands imports from
 * src/server.
 */
import type { ProtocolVersion } from '../protocol/encoder';
import type { Reply } from '../protocol/reply';
import type { PubSubHub } from '../pubsub/hub';
import type { Engine } from '../store/engine';
import type { Entry, Store } from '../store/store';
import type { SweeperStats } from '../store/sweeper';
import type { NotifyType } from './notify';
import type { CommandStats, InstantaneousRates } from './stats';
import type { Scripting } from '../scripting/service';
import type { CommandSpec, QueuedCommand } from './types';

/**
 * A watched key: what it held at WATCH time, and whether a write on this instance touched it
 * since. Registered as WATCH is read (so that a pipelined EXEC sees it), the snapshot taken
 * when WATCH reaches the store, in queue order, before any later command of the client runs.
 */
export interface Watch {
  /** The database and key watched. */
  readonly db: number;
  readonly key: string;
  snapshot: Entry | null;
  dirty: boolean;
}

/** Every client's watches by key (the server's WatchRegistry): what WATCH, EXEC and writes use. */
export interface Watches {
  /** Registers a watch for `key` of database `db` unless the client has one; returns the new watch, or null. */
  add(client: ClientState, key: string, db: number): Watch | null;
  /** Marks the watches of these keys of database `db` dirty (a write on this instance changed them). */
  touch(keys: Iterable<string>, db: number): void;
  /**
   * After a command's writes, in every database it used: its modified keys, and on FLUSHDB,
   * FLUSHALL and SWAPDB every watched key that was live.
   */
  signal(store: Pick<Store, 'used'>): void;
  /** Takes the client's watches away from it; they still see writes until `release` (EXEC, at its turn). */
  detach(client: ClientState): Watch[];
  release(watches: Iterable<Watch>): void;
  unwatchAll(client: ClientState): void;
}

/** Per-connection state that commands may read and change. */
export interface ClientState {
  readonly id: number;
  name: string | null;
  protocol: ProtocolVersion;
  authenticated: boolean;
  user: string;
  libName: string | null;
  libVersion: string | null;
  readonly createdAt: number;
  lastInteraction: number;
  lastCommand: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** Non-null between MULTI and EXEC/DISCARD. */
  multi: { queue: QueuedCommand[]; aborted: boolean } | null;
  /** Close the connection once the reply to the current command is written (QUIT). */
  closeAfterReply: boolean;
  /** Keys under WATCH (by database and key, see WatchRegistry), with their snapshot. */
  readonly watched: Map<string, Watch>;
  /** The selected database (SELECT). */
  db: number;
  /** CLIENT REPLY ON|OFF|SKIP */
  replyMode: 'on' | 'off' | 'skip';
  /** Pub/sub subscriptions (channels, patterns, shard channels); nonzero = subscribed (see PubSubHub). */
  subscriptions: number;
}

/**
 * Redis's read lookups (lookupKeyRead) of one command, found or not: INFO keyspace_hits and
 * keyspace_misses. Added to the server's figures once the command's transaction has committed.
 */
export interface KeyLookups {
  keyspaceHits: number;
  keyspaceMisses: number;
}

export interface CommandContext {
  readonly client: ClientState;
  readonly server: ServerContext;
  /** The store, inside the transaction of this command (only for commands with `data: true`). */
  readonly store: Store;
  /** Where this command counts its read lookups (see `lookedUp`); they reach INFO once its transaction commits. */
  readonly lookups: KeyLookups;
  /**
   * Raises a keyspace notification (Redis's notifyKeyspaceEvent, same type, event name and
   * order): published once the command's transaction has committed, never for a rolled-back write.
   */
  readonly notify: (type: NotifyType, event: string, key: string, db?: number) => void;
}

/** Counts `found` of `of` read lookups as hits, the rest as misses (Redis's lookupKeyRead). */
export function lookedUp(lookups: KeyLookups, found: number | boolean, of = 1): void {
  const hits = Number(found);
  lookups.keyspaceHits += hits;
  lookups.keyspaceMisses += of - hits;
}

/**
 * Awaits one key's read and counts it as lookupKeyRead does: a hit unless `found` says the key is
 * absent; a key of another type was found too (Redis looks it up, then answers WRONGTYPE).
 */
export async function readOf<T>(lookups: KeyLookups, read: Promise<T>, found: (v: T) => boolean = (v) => v !== null): Promise<T> {
  let value: T;
  try {
    value = await read;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('WRONGTYPE')) lookedUp(lookups, true);
    throw e;
  }
  lookedUp(lookups, found(value));
  return value;
}

/** Redis's limits on a connection, by Redis's names. */
export interface ConnectionLimits {
  /** maxclients: connections beyond it get Redis's error and are closed. */
  maxClients: number;
  /** timeout: idle seconds before a client is closed; 0 = never. */
  idleTimeoutSeconds: number;
  /** proto-max-bulk-len: the largest bulk in a request, and the largest string APPEND and SETRANGE build. */
  protoMaxBulkLen: number;
  /** client-query-buffer-limit: unparsed input a client may accumulate. */
  queryBufferLimit: number;
  /** client-output-buffer-limit by class; only normal clients exist in respql. */
  outputBuffer: Record<OutputBufferClass, OutputBufferLimit>;
}

export type OutputBufferClass = 'normal' | 'slave' | 'pubsub';

/** Bytes of unread replies: at `hard` the client is dropped, above `soft` for longer than `seconds` too; 0 = no limit. */
export interface OutputBufferLimit {
  hard: number;
  soft: number;
  seconds: number;
}

/** Settings that CONFIG GET shows (and CONFIG SET may change), by Redis's names. */
export interface RuntimeConfig {
  port: number;
  bind: string;
  requirepass: string | null;
  /** Named users (--user): name -> password. Never shown by CONFIG GET, INFO or logs. */
  users: ReadonlyMap<string, string>;
  /** tls-port once listening (0 = no TLS listener) and tls-auth-clients. */
  tlsPort: number;
  tlsAuthClients: 'yes' | 'no' | 'optional';
  table: string;
  cleanupIntervalMs: number;
  /** Log verbosity by Redis's names (CONFIG SET loglevel changes it; see RespqlOptions.onConfigChange). */
  loglevel: string;
  databaseUrl: string;
  protectedMode: boolean;
  limits: ConnectionLimits;
  /** busy-reply-threshold (lua-time-limit), ms. */
  busyReplyThresholdMs: number;
  /** lua-memory-limit: the script worker's heap, bytes. */
  readonly luaMemoryBytes: number;
  /** notify-keyspace-events as flags (see src/commands/notify.ts); 0 = off. */
  notifyKeyspaceEvents: number;
  /** How many databases SELECT offers (0 to databases - 1). */
  readonly databases: number;
}

/** The server's own figures (INFO stats and the metrics endpoint). */
export interface ServerStats extends KeyLookups {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  netInputBytes: number;
  netOutputBytes: number;
  errorReplies: number;
}

/** What commands may know about the server they run in. */
export interface ServerContext {
  readonly version: string;
  readonly startedAt: number;
  readonly config: RuntimeConfig;
  /** The database side, whatever the backend (never the concrete SQL engine). */
  readonly engine: Engine;
  readonly commands: ReadonlyMap<string, CommandSpec>;
  readonly clients: ReadonlyMap<number, ClientState>;
  readonly stats: ServerStats;
  /** INFO commandstats: calls, time, rejected and failed calls per command. */
  readonly commandStats: CommandStats;
  /** INFO's instantaneous_* rates. */
  readonly rates: InstantaneousRates;
  readonly sweeper: Readonly<SweeperStats>;
  readonly watches: Watches;
  /** EVAL, FUNCTION and friends: the script worker, the known scripts and libraries, BUSY. */
  readonly scripting: Scripting;
  /** This instance's subscriptions, and publishing to every instance. */
  readonly pubsub: PubSubHub;
  /**
   * Parses and runs one command (already looked up, arity checked) for `client`, counted in
   * INFO commandstats: on `store`, inside the caller's transaction (EXEC's queue; Lua's
   * redis.call), or without one in a transaction of its own.
   */
  call(spec: CommandSpec<unknown>, argv: Buffer[], client: ClientState, store?: Store): Reply | Promise<Reply>;
  /** Server clock in ms (injectable for tests). */
  now(): number;
  /** Closes another client's connection (CLIENT KILL). */
  killClient(id: number): boolean;
  /** Begins a graceful shutdown (SHUTDOWN): in-flight commands reply, then the server closes. */
  requestShutdown(reason: string): void;
  /** After CONFIG SET: applies the changed settings to open connections and the log level. */
  applyConfig(): void;
  /** The other workers of a `--workers` server, so that they answer as one server; null in a single process. */
  readonly peers: Peers | null;
}

/** What one worker asks of every other (see src/server/worker-ipc.ts, which answers with the functions below). */
export type PeerRequest =
  | 'client-list'
  | 'client-kill'
  | 'info'
  | 'config-set'
  | 'config-resetstat'
  | 'publish'
  | 'receivers'
  | 'pubsub-channels'
  | 'pubsub-numsub'
  | 'pubsub-patterns';

export interface Peers {
  /** Runs `kind` with `payload` on every other worker; resolves with the answers of those that answered. */
  ask(kind: PeerRequest, payload: unknown): Promise<unknown[]>;
}
