/**
 * Command-line and environment settings. One table describes every setting and which
 * subcommands take it; a bad value stops start-up with one line naming the setting.
 *
 *   respql [serve] [options]     run the server (the default)
 *   respql migrate [options]     apply pending migrations and exit
 *   respql ping [options]        PING a running server; exit 0 on PONG (health checks)
 *   respql import --from URL     copy string keys and their TTLs from a running Redis
 */
import { DEFAULTS, type ConnectionLimits, type RespqlOptions } from './server/server';
import { LOG_FORMATS, LOG_LEVEL_NAMES, type LogFormat, type LogLevel } from './ops/logger';

export class ConfigError extends Error {}

export type Subcommand = 'serve' | 'migrate' | 'ping' | 'import';
export const SUBCOMMANDS: Record<Subcommand, string> = {
  serve: 'run the server (the default when no command is given)',
  migrate: 'apply pending migrations to the configured database and table, then exit',
  ping: 'send PING to a running respql; exit 0 on PONG (for health checks)',
  import: 'copy string keys and their remaining TTLs from a running Redis',
};

export interface ImportSettings {
  /** redis://[user:password@]host:port[/db] */
  from: string | null;
  /** SCAN MATCH pattern; null = every key. */
  match: string | null;
  /** Keys per SCAN page and per write transaction. */
  batch: number;
}

export interface ParsedCommandLine {
  action: Subcommand | 'help' | 'version';
  /** The subcommand named on the command line (the one --help describes). */
  command: Subcommand;
  options: RespqlOptions;
  log: { level: LogLevel; format: LogFormat };
  import: ImportSettings;
}

interface Setting {
  flag: string;
  env: string;
  help: string;
  defaultText: string;
  commands: readonly Subcommand[];
  apply(value: string, into: ParsedCommandLine): void;
}

const SERVE_ONLY: readonly Subcommand[] = ['serve'];
const DATABASE: readonly Subcommand[] = ['serve', 'migrate', 'import'];
const LOGGING: readonly Subcommand[] = ['serve', 'migrate', 'import'];
const CONNECT: readonly Subcommand[] = ['serve', 'ping'];

/** A Redis limit (by Redis's name): a whole number of at least `min`. */
function limitSetting(
  flag: string, env: string, field: keyof ConnectionLimits, help: string, defaultText: string, min: number,
): Setting {
  return {
    flag, env, help, defaultText, commands: SERVE_ONLY,
    apply(v, o) {
      if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
        throw new ConfigError(`invalid ${flag} '${v}': expected a whole number of at least ${min}`);
      }
      o.options.limits = { ...o.options.limits, [field]: Number(v) };
    },
  };
}

/** A file for the TLS listener; it is read and checked when the server starts. */
function tlsFileSetting(flag: string, env: string, field: 'certFile' | 'keyFile' | 'caCertFile', help: string): Setting {
  return {
    flag, env, help, defaultText: '(none)', commands: SERVE_ONLY,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid ${flag} '': expected a file path`);
      o.options.tls = { ...o.options.tls, [field]: v };
    },
  };
}

function portNumber(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(`invalid ${name} '${value}': expected a port number from 0 to 65535`);
  }
  return Number(value);
}

/** "300", "300s", "5m", "1500ms", "1h" -> milliseconds; plain numbers are seconds. */
export function durationMs(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`invalid ${name} '${value}': expected a duration such as 300, 30s, 5m or 500ms`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

function positiveDuration(name: string, value: string): number {
  const ms = durationMs(name, value);
  if (ms < 1) throw new ConfigError(`invalid ${name} '${value}': expected a duration above zero, such as 5s or 500ms`);
  return ms;
}

/** Hides the password of a URL quoted in an error message. */
function hidePassword(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export const SETTINGS: Setting[] = [
  {
    flag: '--port', env: 'RESPQL_PORT', help: 'TCP port to listen on (0 = none, only --tls-port, as in Redis); ping connects to it', defaultText: String(DEFAULTS.port),
    commands: CONNECT,
    apply(v, o) {
      const port = portNumber('--port', v);
      o.options.port = port === 0 ? null : port;
    },
  },
  {
    flag: '--bind', env: 'RESPQL_BIND', help: 'address to listen on; ping connects to it (0.0.0.0 -> 127.0.0.1)', defaultText: DEFAULTS.host,
    commands: CONNECT,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid --bind '': expected an IP address or host name`);
      o.options.host = v;
    },
  },
  {
    flag: '--database-url', env: 'DATABASE_URL', help: 'postgres://user@host:port/db, or a SQLite file path', defaultText: DEFAULTS.databaseUrl,
    commands: DATABASE,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid --database-url '': expected a postgres:// URL or a SQLite file path`);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !/^(postgres(ql)?|sqlite):\/\//i.test(v)) {
        throw new ConfigError(`invalid --database-url '${hidePassword(v)}': only postgres:// URLs and SQLite file paths are supported`);
      }
      o.options.databaseUrl = v;
    },
  },
  {
    flag: '--table', env: 'RESPQL_TABLE', help: 'name of the sessions table', defaultText: DEFAULTS.table,
    commands: DATABASE,
    apply(v, o) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,50}$/.test(v)) {
        throw new ConfigError(`invalid --table '${v}': expected letters, digits and underscores, not starting with a digit`);
      }
      o.options.table = v;
    },
  },
  {
    flag: '--cleanup-interval', env: 'RESPQL_CLEANUP_INTERVAL', help: 'how often expired rows are deleted (0 disables)', defaultText: '5m',
    commands: SERVE_ONLY,
    apply: (v, o) => (o.options.cleanupIntervalMs = durationMs('--cleanup-interval', v)),
  },
  {
    flag: '--database-timeout', env: 'RESPQL_DATABASE_TIMEOUT', help: 'longest a command waits for the database before it gets -ERR database unavailable (also the connect timeout)', defaultText: '5s',
    commands: DATABASE,
    apply: (v, o) => (o.options.databaseTimeoutMs = positiveDuration('--database-timeout', v)),
  },
  {
    flag: '--pool-size', env: 'RESPQL_POOL_SIZE', help: 'PostgreSQL connections at most (SQLite uses one)', defaultText: '10',
    commands: DATABASE,
    apply(v, o) {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000) throw new ConfigError(`invalid --pool-size '${v}': expected a number from 1 to 1000`);
      o.options.poolSize = Number(v);
    },
  },
  {
    flag: '--shutdown-timeout', env: 'RESPQL_SHUTDOWN_TIMEOUT', help: "on SIGTERM, SIGINT or SHUTDOWN, longest wait for clients' in-flight commands before they are dropped", defaultText: '10s',
    commands: SERVE_ONLY,
    apply: (v, o) => (o.options.shutdownTimeoutMs = positiveDuration('--shutdown-timeout', v)),
  },
  {
    flag: '--requirepass', env: 'RESPQL_REQUIREPASS', help: 'password clients must give with AUTH (ping sends it)', defaultText: '(none)',
    commands: CONNECT,
    apply(v, o) {
      if (!v) throw new ConfigError(`invalid --requirepass '': the password must not be empty`);
      o.options.requirepass = v;
    },
  },
  {
    flag: '--user', env: 'RESPQL_USERS', help: 'a named user for AUTH: name:password (repeat the flag; the env var takes a comma-separated list)', defaultText: '(none)',
    commands: SERVE_ONLY,
    apply(v, o) {
      const users = { ...o.options.users };
      // Error texts name the user at most: an entry may be a password typed without its name.
      v.split(',').forEach((entry, i) => {
        const colon = entry.indexOf(':');
        if (colon === -1) throw new ConfigError(`invalid --user entry ${i + 1}: expected name:password`);
        const name = entry.slice(0, colon);
        if (!/^[\x21-\x7e]+$/.test(name)) {
          throw new ConfigError(`invalid --user entry ${i + 1}: the name must be printable ASCII without spaces`);
        }
        if (name === 'default') throw new ConfigError(`invalid --user 'default': set the default user's password with --requirepass`);
        if (colon === entry.length - 1) throw new ConfigError(`invalid --user '${name}': the password must not be empty`);
        users[name] = entry.slice(colon + 1);
      });
      o.options.users = users;
    },
  },
  {
    flag: '--migrate', env: 'RESPQL_MIGRATE', help: 'apply pending migrations at start-up (yes/no)', defaultText: 'yes',
    commands: ['serve', 'import'],
    apply(v, o) {
      if (!/^(yes|no|true|false|1|0)$/i.test(v)) throw new ConfigError(`invalid --migrate '${v}': expected yes or no`);
      o.options.migrate = /^(yes|true|1)$/i.test(v);
    },
  },
  {
    flag: '--protected-mode', env: 'RESPQL_PROTECTED_MODE', help: 'refuse a non-loopback --bind without --requirepass (yes/no), as Redis does', defaultText: 'yes',
    commands: SERVE_ONLY,
    apply(v, o) {
      if (!/^(yes|no)$/i.test(v)) throw new ConfigError(`invalid --protected-mode '${v}': expected yes or no`);
      o.options.protectedMode = /^yes$/i.test(v);
    },
  },
  {
    flag: '--tls-port', env: 'RESPQL_TLS_PORT', help: 'TLS port to listen on as well (0 = none)', defaultText: '0',
    commands: SERVE_ONLY,
    apply(v, o) {
      const port = portNumber('--tls-port', v);
      o.options.tls = { ...o.options.tls, port: port === 0 ? undefined : port };
    },
  },
  tlsFileSetting('--tls-cert-file', 'RESPQL_TLS_CERT_FILE', 'certFile', 'server certificate for --tls-port (PEM)'),
  tlsFileSetting('--tls-key-file', 'RESPQL_TLS_KEY_FILE', 'keyFile', 'private key of --tls-cert-file (PEM)'),
  tlsFileSetting('--tls-ca-cert-file', 'RESPQL_TLS_CA_CERT_FILE', 'caCertFile', 'CA certificate(s) that client certificates must be signed by (PEM)'),
  {
    flag: '--tls-auth-clients', env: 'RESPQL_TLS_AUTH_CLIENTS', help: 'client certificates on --tls-port: yes = required, optional = checked if given, no = ignored', defaultText: 'yes',
    commands: SERVE_ONLY,
    apply(v, o) {
      if (v !== 'yes' && v !== 'no' && v !== 'optional') throw new ConfigError(`invalid --tls-auth-clients '${v}': expected yes, no or optional`);
      o.options.tls = { ...o.options.tls, authClients: v };
    },
  },
  limitSetting('--maxclients', 'RESPQL_MAXCLIENTS', 'maxClients', 'connections accepted at once', '10000', 1),
  limitSetting('--timeout', 'RESPQL_TIMEOUT', 'idleTimeoutSeconds', 'close clients idle this many seconds (0 = never)', '0', 0),
  limitSetting('--proto-max-bulk-len', 'RESPQL_PROTO_MAX_BULK_LEN', 'protoMaxBulkLen', 'largest bulk string in a request, bytes', '536870912', 1),
  limitSetting('--client-query-buffer-limit', 'RESPQL_CLIENT_QUERY_BUFFER_LIMIT', 'queryBufferLimit', 'unparsed input a client may pile up, bytes', '1073741824', 1024),
  limitSetting('--client-output-buffer-limit', 'RESPQL_CLIENT_OUTPUT_BUFFER_LIMIT', 'outputBufferLimit', 'unread replies a client may pile up before it is dropped, bytes (0 = no limit)', '268435456', 0),
  {
    flag: '--metrics-port', env: 'RESPQL_METRICS_PORT', help: 'serve Prometheus metrics over HTTP at /metrics on this port (0 = any free port)', defaultText: '(off)',
    commands: SERVE_ONLY,
    apply: (v, o) => (o.options.metricsPort = portNumber('--metrics-port', v)),
  },
  {
    flag: '--metrics-bind', env: 'RESPQL_METRICS_BIND', help: 'address the metrics endpoint listens on', defaultText: '(--bind)',
    commands: SERVE_ONLY,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid --metrics-bind '': expected an IP address or host name`);
      o.options.metricsHost = v;
    },
  },
  {
    flag: '--loglevel', env: 'RESPQL_LOGLEVEL', help: `log verbosity: ${LOG_LEVEL_NAMES.join(', ')}`, defaultText: 'notice',
    commands: LOGGING,
    apply(v, o) {
      const level = v.toLowerCase();
      if (!(LOG_LEVEL_NAMES as string[]).includes(level)) {
        throw new ConfigError(`invalid --loglevel '${v}': expected one of ${LOG_LEVEL_NAMES.join(', ')}`);
      }
      o.log.level = level as LogLevel;
    },
  },
  {
    flag: '--log-format', env: 'RESPQL_LOG_FORMAT', help: 'json lines, or text like redis-server (auto = text on a terminal)', defaultText: 'auto',
    commands: LOGGING,
    apply(v, o) {
      if (!(LOG_FORMATS as string[]).includes(v)) {
        throw new ConfigError(`invalid --log-format '${v}': expected one of ${LOG_FORMATS.join(', ')}`);
      }
      o.log.format = v as LogFormat;
    },
  },
  {
    flag: '--from', env: 'RESPQL_IMPORT_FROM', help: 'Redis to copy from: redis://[user:password@]host:port[/db]', defaultText: '(required)',
    commands: ['import'],
    apply(v, o) {
      if (!parseRedisUrl(v)) {
        throw new ConfigError(`invalid --from '${hidePassword(v)}': expected redis://[user:password@]host[:port][/db]`);
      }
      o.import.from = v;
    },
  },
  {
    flag: '--match', env: 'RESPQL_IMPORT_MATCH', help: "copy only keys matching this glob (SCAN MATCH), e.g. 'sess:*'", defaultText: '(all keys)',
    commands: ['import'],
    apply(v, o) {
      if (!v) throw new ConfigError(`invalid --match '': expected a glob pattern such as 'sess:*'`);
      o.import.match = v;
    },
  },
  {
    flag: '--batch', env: 'RESPQL_IMPORT_BATCH', help: 'keys per SCAN page and per write transaction', defaultText: '1000',
    commands: ['import'],
    apply(v, o) {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100_000) {
        throw new ConfigError(`invalid --batch '${v}': expected a number from 1 to 100000`);
      }
      o.import.batch = Number(v);
    },
  },
];

export interface RedisUrl {
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  db: number;
}

/** redis://[user:password@]host[:port][/db] -> its parts; null when it is not one. */
export function parseRedisUrl(text: string): RedisUrl | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'redis:' || !url.hostname || url.search || url.hash) return null;
  const db = /^\/?(\d*)$/.exec(url.pathname);
  if (!db) return null;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : null,
    password: url.password ? decodeURIComponent(url.password) : null,
    db: db[1] ? Number(db[1]) : 0,
  };
}

function isSubcommand(word: string): word is Subcommand {
  return Object.prototype.hasOwnProperty.call(SUBCOMMANDS, word);
}

/**
 * Environment first, then flags (flags win). `--flag value` and `--flag=value` both work.
 * The first word that is not a flag or a flag's value names the subcommand (default serve).
 * Only the settings a subcommand takes are read from the environment, so a container's
 * server settings do not trouble `respql ping`.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const parsed: ParsedCommandLine = {
    action: 'serve',
    command: 'serve',
    options: {},
    log: { level: 'notice', format: 'auto' },
    import: { from: null, match: null, batch: 1000 },
  };
  let special: 'help' | 'version' | null = null;
  let seenCommand = false;
  const flags: [Setting, string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      special ??= 'help';
      continue;
    }
    if (arg === '--version' || arg === '-v') {
      special ??= 'version';
      continue;
    }
    if (!arg.startsWith('-')) {
      if (seenCommand || !isSubcommand(arg)) {
        throw new ConfigError(`unknown command '${arg}' (expected one of ${Object.keys(SUBCOMMANDS).join(', ')}; see respql --help)`);
      }
      parsed.command = arg;
      seenCommand = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) throw new ConfigError(`unknown option '${arg}' (see respql --help)`);
    const value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`missing value for ${flag}`);
    flags.push([setting, flag, value]);
  }
  if (special) return { ...parsed, action: special };

  const command = parsed.command;
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v === undefined || v === '' || !s.commands.includes(command)) continue;
    try {
      s.apply(v, parsed);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(err.message.replace(s.flag, s.env));
      throw err;
    }
  }
  for (const [setting, flag, value] of flags) {
    if (!setting.commands.includes(command)) {
      throw new ConfigError(`option ${flag} does not apply to 'respql ${command}' (see respql ${command} --help)`);
    }
    setting.apply(value, parsed);
  }
  if (command === 'import' && !parsed.import.from) {
    throw new ConfigError(`missing --from: respql import needs the Redis to copy from, e.g. --from redis://127.0.0.1:6379`);
  }
  return { ...parsed, action: command };
}

export function helpText(command: Subcommand = 'serve'): string {
  const rows = SETTINGS.filter((s) => s.commands.includes(command)).map(
    (s) => `  ${(s.flag + ' <value>').padEnd(28)} ${s.help} (env ${s.env}, default ${s.defaultText})`,
  );
  const usage = command === 'serve' ? 'Usage: respql [command] [options]' : `Usage: respql ${command} [options]`;
  const lines = [usage, '', command === 'serve' ? 'A Redis-protocol session server that keeps every key in SQL.' : SUBCOMMANDS[command], ''];
  if (command === 'serve') {
    lines.push('Commands:', ...Object.entries(SUBCOMMANDS).map(([name, text]) => `  ${name.padEnd(28)} ${text}`), '');
    lines.push('Options (serve; see respql <command> --help for the others):');
  } else {
    lines.push('Options:');
  }
  return [
    ...lines,
    ...rows,
    `  ${'--help'.padEnd(28)} show this help`,
    `  ${'--version'.padEnd(28)} print the version`,
  ].join('\n');
}
