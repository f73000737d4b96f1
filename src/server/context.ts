import type { CommandSpec, ClientState } from '../commands/types';
import type { SqlEngine } from '../store/sql-engine';
import type { SweeperStats } from '../store/sweeper';
import type { WatchRegistry } from '../commands/transactions';
import type { CommandStats, InstantaneousRates } from './stats';

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
  limits: import('./server').ConnectionLimits;
}

/** What commands may know about the server they run in. */
export interface ServerContext {
  readonly version: string;
  readonly startedAt: number;
  readonly config: RuntimeConfig;
  readonly engine: SqlEngine;
  readonly commands: ReadonlyMap<string, CommandSpec<any>>;
  readonly clients: ReadonlyMap<number, ClientState>;
  readonly stats: ServerStats;
  /** INFO commandstats: calls, time, rejected and failed calls per command. */
  readonly commandStats: CommandStats;
  /** INFO's instantaneous_* rates. */
  readonly rates: InstantaneousRates;
  readonly sweeper: SweeperStats;
  readonly watches: WatchRegistry;
  /** Server clock in ms (injectable for tests). */
  now(): number;
  /** Closes another client's connection (CLIENT KILL). */
  killClient(id: number): boolean;
  /** Begins a graceful shutdown (SHUTDOWN): in-flight commands reply, then the server closes. */
  requestShutdown(reason: string): void;
  /** After CONFIG SET: applies the changed settings to open connections and the log level. */
  applyConfig(): void;
}

export interface ServerStats {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
  netInputBytes: number;
  netOutputBytes: number;
  errorReplies: number;
}

export function emptyStats(): ServerStats {
  return {
    connectionsReceived: 0,
    commandsProcessed: 0,
    rejectedConnections: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    expiredKeys: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    errorReplies: 0,
  };
}
