/**
 * Every setting, once: its name, default, validator, and where it can be given. The command
 * line's flags, their environment variables, `--help`, CONFIG GET/SET and the README's
 * settings table are all made from SETTINGS.
 *
 * Settings that Redis also has take Redis's name, units, bounds and error texts (redis 7.0
 * config.c): memory values as memtoull reads them (`2mb`, `1gb`, `512k`), integers as
 * string2ll reads them, yes/no, enums. respql's own settings appear in CONFIG GET as
 * `respql-<name>`, apart from Redis's names.
 */
import { ConfigReasons } from './protocol/errors';
import { formatNotifyFlags, INVALID_EVENT_CLASS, parseNotifyFlags } from './commands/notify';
import { LOG_FORMATS, LOG_LEVEL_NAMES, type LogFormat, type LogLevel } from './ops/logger';
import type { ParsedCommandLine, Subcommand } from './config';
import type { ConnectionLimits, OutputBufferClass, OutputBufferLimit, RuntimeConfig } from './commands/context';
import type { TlsAuthClients } from './server/tls';
import type { PreparedStatements } from './store/dialect';

/** A value a setting refuses; the message is the reason (Redis's text for Redis's settings). */
export class InvalidValue extends Error {}

/** How a setting's values are read and shown. */
export interface ValueType<T> {
  /** The value, or InvalidValue. */
  parse(text: string): T;
  /** As CONFIG GET shows it. */
  show(value: T): string;
  /** For --help and the README when friendlier than `show` (512mb rather than 536870912). */
  human?(value: T): string;
}

const LLONG_MAX = 2n ** 63n - 1n;
const ULLONG = 2n ** 64n;

const MEMORY_UNITS: Record<string, bigint> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n ** 2n,
  mb: 1024n ** 2n,
  g: 1000n ** 3n,
  gb: 1024n ** 3n,
};

/**
 * Redis's memtoull: digits then an optional unit (b, k, kb, m, mb, g, gb, any case); null
 * when malformed. As in C, the digits saturate at 2^64-1 and the product wraps, so a huge
 * value fails the bounds check rather than the parse.
 */
export function memtoull(text: string): bigint | null {
  const m = /^([0-9]*)(.*)$/s.exec(text)!;
  const unit = m[2].toLowerCase();
  if (!Object.hasOwn(MEMORY_UNITS, unit) || m[1].length >= 128) return null;
  const digits = m[1] ? BigInt(m[1]) : 0n;
  return ((digits < ULLONG ? digits : ULLONG - 1n) * MEMORY_UNITS[unit]) % ULLONG;
}

/** Redis's string2ll: no sign but '-', no leading zeros, no spaces, 64 bits. */
function string2ll(text: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(text)) return null;
  const v = BigInt(text);
  return v > LLONG_MAX || v < -LLONG_MAX - 1n ? null : v;
}

function bounded(n: bigint, min: bigint, max: bigint): number {
  if (n < min || n > max) throw new InvalidValue(ConfigReasons.range(min, max));
  return Number(n);
}

/** A Redis MEMORY_CONFIG number: bytes, with units. */
export function memory(min: bigint, max: bigint): ValueType<number> {
  return {
    parse(text) {
      const n = memtoull(text);
      if (n === null) throw new InvalidValue(ConfigReasons.notMemory);
      return bounded(n, min, max);
    },
    show: String,
    human: humanBytes,
  };
}

/** 536870912 -> 512mb; other values in bytes. */
function humanBytes(n: number): string {
  for (const [unit, size] of [
    ['gb', 1024 ** 3],
    ['mb', 1024 ** 2],
    ['kb', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

/** A Redis integer setting. */
export function integer(min: bigint, max: bigint): ValueType<number> {
  return {
    parse(text) {
      const n = string2ll(text);
      if (n === null) throw new InvalidValue(ConfigReasons.notInteger);
      return bounded(n, min, max);
    },
    show: String,
  };
}

/** notify-keyspace-events's flag characters (keyspaceEventsStringToFlags). */
function parseNotifyFlagsOrThrow(text: string): number {
  const flags = parseNotifyFlags(text);
  if (flags === null) throw new InvalidValue(INVALID_EVENT_CLASS);
  return flags;
}

/** Redis's yes/no (any case). */
export const yesNo: ValueType<boolean> = {
  parse(text) {
    const t = text.toLowerCase();
    if (t !== 'yes' && t !== 'no') throw new InvalidValue(ConfigReasons.yesNo);
    return t === 'yes';
  },
  show: (v) => (v ? 'yes' : 'no'),
};

/** A Redis enum: one of `names` (any case), shown in lower case. */
export function oneOf<T extends string>(names: readonly T[]): ValueType<T> {
  return {
    parse(text) {
      const t = text.toLowerCase() as T;
      if (!names.includes(t)) throw new InvalidValue(ConfigReasons.oneOf(names));
      return t;
    },
    show: (v) => v,
  };
}

/** Text; `check` returns why a value is refused, or null. */
export function text(check: (v: string) => string | null = () => null): ValueType<string> {
  return {
    parse(v) {
      const why = check(v);
      if (why !== null) throw new InvalidValue(why);
      return v;
    },
    show: (v) => v,
  };
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "300", "300s", "5m", "1500ms", "1h" -> milliseconds; plain numbers are seconds. null when malformed. */
export function parseDuration(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  return m ? Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 's') as keyof typeof DURATION_UNITS]) : null;
}

/** respql's durations (Redis has none): shown in the largest unit that divides them. */
export function duration(min = 0): ValueType<number> {
  return {
    parse(v) {
      const ms = parseDuration(v);
      if (ms === null) throw new InvalidValue('expected a duration such as 300, 30s, 5m or 500ms');
      if (ms < min) throw new InvalidValue('expected a duration above zero, such as 5s or 500ms');
      return ms;
    },
    show(ms) {
      for (const unit of ['h', 'm', 's'] as const) if (ms && ms % DURATION_UNITS[unit] === 0) return `${ms / DURATION_UNITS[unit]}${unit}`;
      return ms ? `${ms}ms` : '0';
    },
  };
}

const port = integer(0n, 65535n);

const OUTPUT_BUFFER_CLASSES: readonly OutputBufferClass[] = ['normal', 'slave', 'pubsub'];

/** client-output-buffer-limit: `<class> <hard> <soft> <soft seconds>` groups, as Redis's updateClientOutputBufferLimit. */
export const bufferLimits: ValueType<Partial<Record<OutputBufferClass, OutputBufferLimit>>> = {
  parse(value) {
    const words = value.split(' ').filter((w) => w.length);
    if (words.length % 4 !== 0) throw new InvalidValue(ConfigReasons.bufferLimitArity);
    const found: Partial<Record<OutputBufferClass, OutputBufferLimit>> = {};
    for (let i = 0; i < words.length; i += 4) {
      const cls = (words[i].toLowerCase() === 'replica' ? 'slave' : words[i].toLowerCase()) as OutputBufferClass;
      if (!OUTPUT_BUFFER_CLASSES.includes(cls)) throw new InvalidValue(ConfigReasons.bufferLimitClass);
      const [hard, soft] = [memtoull(words[i + 1]), memtoull(words[i + 2])];
      const seconds = /^[0-9]+$/.test(words[i + 3]) ? Number(words[i + 3]) : null;
      if (hard === null || soft === null || seconds === null) throw new InvalidValue(ConfigReasons.bufferLimitValue);
      found[cls] = { hard: Number(hard), soft: Number(soft), seconds };
    }
    return found;
  },
  show: (v) =>
    OUTPUT_BUFFER_CLASSES.filter((c) => v[c])
      .map((c) => `${c} ${v[c]!.hard} ${v[c]!.soft} ${v[c]!.seconds}`)
      .join(' '),
  human: (v) =>
    OUTPUT_BUFFER_CLASSES.filter((c) => v[c])
      .map((c) => `${c} ${humanBytes(v[c]!.hard)} ${humanBytes(v[c]!.soft)} ${v[c]!.seconds}`)
      .join(' '),
};

/** Named users for AUTH: `name:password[,name:password...]`. Reasons never quote a password. */
const users: ValueType<Record<string, string>> = {
  parse(v) {
    const found: Record<string, string> = {};
    v.split(',').forEach((entry, i) => {
      const colon = entry.indexOf(':');
      if (colon === -1) throw new InvalidValue(`entry ${i + 1}: expected name:password`);
      const name = entry.slice(0, colon);
      if (!/^[\x21-\x7e]+$/.test(name)) throw new InvalidValue(`entry ${i + 1}: the name must be printable ASCII without spaces`);
      if (name === 'default') throw new InvalidValue(`'default': set the default user's password with --requirepass`);
      if (colon === entry.length - 1) throw new InvalidValue(`'${name}': the password must not be empty`);
      found[name] = entry.slice(colon + 1);
    });
    return found;
  },
  show: (v) => Object.keys(v).join(','),
};

/** Where CONFIG GET reads a setting and, when CONFIG SET can change it at run time, how. */
interface RuntimeAccess<T> {
  get(config: RuntimeConfig): T;
  /** Absent: CONFIG SET takes only the current value (Redis could change it, respql cannot). */
  set?(config: RuntimeConfig, value: T): void;
  /** Redis's IMMUTABLE_CONFIG: CONFIG SET always refuses it, before checking any value. */
  immutable?: boolean;
  /** What CONFIG GET shows instead of the value (requirepass: never the password). */
  shown?: string;
}

export interface Setting<T = unknown> {
  /** Redis's name when Redis has the setting; the flag is `--<name>`. */
  readonly name: string;
  readonly help: string;
  readonly type: ValueType<T>;
  /** null: no default (defaultText says what then). */
  readonly default: T | null;
  /** For --help and the README, when there is no default value to show. */
  readonly defaultText?: string;
  /** Subcommands that take it as a flag and from the environment; empty = CONFIG only. */
  readonly commands: readonly Subcommand[];
  /** The environment variable, when not RESPQL_<NAME>. */
  readonly env?: string;
  /** Puts a command-line value where its subcommand reads it. */
  apply?(value: T, into: ParsedCommandLine): void;
  /** How a refused value is quoted in the one-line error (null = not at all: it may be a password). */
  readonly quote?: (text: string) => string | null;
  /** CONFIG GET/SET; absent = not visible at run time. */
  readonly runtime?: RuntimeAccess<T>;
  /** Redis's only setting name for it differs from the flag (respql's own settings: respql-<name>). */
  readonly configName?: string;
}

/** Keeps each entry's value type while listing them together. */
const setting = <T>(s: Setting<T>): Setting<T> => s;

const SERVE: readonly Subcommand[] = ['serve'];
const DATABASE: readonly Subcommand[] = ['serve', 'migrate', 'import'];
const LOGGING: readonly Subcommand[] = ['serve', 'migrate', 'import'];
const CONNECT: readonly Subcommand[] = ['serve', 'ping'];

const notEmpty = (what: string) => (v: string) => (v.trim() ? null : `expected ${what}`);
const limit = <K extends keyof ConnectionLimits>(field: K) => ({
  get: (c: RuntimeConfig) => c.limits[field],
  set: (c: RuntimeConfig, v: ConnectionLimits[K]) => (c.limits[field] = v),
});
const toLimits =
  <K extends keyof ConnectionLimits>(field: K) =>
  (v: ConnectionLimits[K], o: ParsedCommandLine) =>
    (o.options.limits = { ...o.options.limits, [field]: v });

/** Hides the password of a URL quoted in an error message. */
export function hidePassword(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
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

export interface RedisUrl {
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  db: number;
}

/** Redis leaves normal clients unlimited; respql bounds them so a client that never reads cannot exhaust memory. */
const OUTPUT_BUFFER_DEFAULT: Record<OutputBufferClass, OutputBufferLimit> = {
  normal: { hard: 256 * 1024 * 1024, soft: 0, seconds: 0 },
  slave: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, seconds: 60 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, seconds: 60 },
};

export const SETTINGS: readonly Setting[] = [
  setting({
    name: 'port',
    type: port,
    default: 6379,
    commands: CONNECT,
    help: 'TCP port to listen on (0 = none, only --tls-port, as in Redis); ping connects to it',
    apply: (v, o) => (o.options.port = v === 0 ? null : v),
    runtime: { get: (c) => c.port },
  }),
  setting({
    name: 'bind',
    type: text(notEmpty('an IP address or host name')),
    default: '127.0.0.1',
    commands: CONNECT,
    help: 'address to listen on; ping connects to it (0.0.0.0 -> 127.0.0.1)',
    apply: (v, o) => (o.options.host = v),
    runtime: { get: (c) => c.bind },
  }),
  setting({
    name: 'database-url',
    env: 'DATABASE_URL',
    default: 'respql.sqlite',
    commands: DATABASE,
    help: 'postgres://user@host:port/db, mysql:// or mariadb://user@host:port/db, or a SQLite file path',
    type: text((v) => {
      if (!v.trim()) return 'expected a postgres://, mysql:// or mariadb:// URL or a SQLite file path';
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !/^(postgres(ql)?|mysql|mariadb|sqlite):\/\//i.test(v))
        return 'only postgres://, mysql:// and mariadb:// URLs and SQLite file paths are supported';
      return null;
    }),
    quote: hidePassword,
    apply: (v, o) => (o.options.databaseUrl = v),
  }),
  setting({
    name: 'table',
    default: 'sessions',
    commands: DATABASE,
    configName: 'respql-table',
    help: 'name of the sessions table',
    type: text((v) =>
      /^[A-Za-z_][A-Za-z0-9_]{0,50}$/.test(v) ? null : 'expected letters, digits and underscores, not starting with a digit',
    ),
    apply: (v, o) => (o.options.table = v),
    runtime: { get: (c) => c.table },
  }),
  setting({
    name: 'cleanup-interval',
    type: duration(),
    default: 5 * 60 * 1000,
    commands: SERVE,
    configName: 'respql-cleanup-interval',
    help: 'how often expired rows are deleted (0 disables)',
    apply: (v, o) => (o.options.cleanupIntervalMs = v),
    runtime: { get: (c) => c.cleanupIntervalMs },
  }),
  setting({
    name: 'expired-events-interval',
    type: duration(),
    default: 100,
    commands: SERVE,
    configName: 'respql-expired-events-interval',
    help: 'how often the keys whose time has come are deleted and announced as expired events, while notify-keyspace-events has x (0 disables)',
    apply: (v, o) => (o.options.expiredEventsIntervalMs = v),
  }),
  setting<number>({
    name: 'notify-keyspace-events',
    type: { parse: parseNotifyFlagsOrThrow, show: formatNotifyFlags },
    default: 0,
    defaultText: '""',
    commands: SERVE,
    help: "keyspace notifications, by Redis's flag characters (e.g. Egx; empty = off)",
    apply: (v, o) => (o.options.notifyKeyspaceEvents = formatNotifyFlags(v)),
    runtime: { get: (c) => c.notifyKeyspaceEvents, set: (c, v) => (c.notifyKeyspaceEvents = v) },
  }),
  setting({
    name: 'database-timeout',
    type: duration(1),
    default: 5000,
    commands: DATABASE,
    help: 'longest a command waits for the database before it gets -ERR database unavailable (also the connect timeout)',
    apply: (v, o) => (o.options.databaseTimeoutMs = v),
  }),
  setting({
    name: 'pool-size',
    type: integer(1n, 1000n),
    default: 10,
    commands: DATABASE,
    help: 'PostgreSQL connections at most (SQLite uses one)',
    apply: (v, o) => (o.options.poolSize = v),
  }),
  setting<PreparedStatements>({
    name: 'prepared-statements',
    type: oneOf<PreparedStatements>(['yes', 'no', 'auto']),
    default: 'auto',
    commands: DATABASE,
    help: 'PostgreSQL named prepared statements: yes, no (behind PgBouncer in transaction mode), auto (detect a pooler)',
    apply: (v, o) => (o.options.preparedStatements = v),
  }),
  setting({
    name: 'allow-lazy-commit',
    type: yesNo,
    default: false,
    commands: DATABASE,
    help: "MariaDB: serve even when the server's innodb_flush_log_at_trx_commit is not 1 (a crash of its machine may then lose acknowledged writes)",
    apply: (v, o) => (o.options.allowLazyCommit = v),
  }),
  setting({
    name: 'workers',
    type: integer(0n, 1024n),
    default: 1,
    commands: SERVE,
    help: 'processes serving the port as one server, each with its own event loop and database connections (0 = one per core)',
    apply: (v, o) => (o.serve.workers = v),
  }),
  setting({
    name: 'shutdown-timeout',
    type: duration(1),
    default: 10_000,
    commands: SERVE,
    help: "on SIGTERM, SIGINT or SHUTDOWN, longest wait for clients' in-flight commands before they are dropped",
    apply: (v, o) => (o.options.shutdownTimeoutMs = v),
  }),
  setting({
    name: 'requirepass',
    type: text(),
    default: null,
    defaultText: '(none)',
    commands: CONNECT,
    help: 'password clients must give with AUTH (ping sends it; "" = none); CONFIG GET shows it empty',
    quote: () => null,
    // As Redis's requirepass "": an empty password is none.
    apply: (v, o) => (o.options.requirepass = v === '' ? null : v),
    runtime: { get: (c) => c.requirepass ?? '', set: (c, v) => (c.requirepass = v === '' ? null : v), shown: '' },
  }),
  setting({
    name: 'user',
    env: 'RESPQL_USERS',
    type: users,
    default: null,
    defaultText: '(none)',
    commands: SERVE,
    help: 'a named user for AUTH: name:password (repeat the flag; the env var takes a comma-separated list)',
    quote: () => null,
    apply: (v, o) => (o.options.users = { ...o.options.users, ...v }),
  }),
  setting({
    name: 'migrate',
    type: yesNo,
    default: true,
    commands: ['serve', 'import'],
    help: 'apply pending migrations at start-up (yes/no)',
    apply: (v, o) => (o.options.migrate = v),
  }),
  setting({
    name: 'protected-mode',
    type: yesNo,
    default: true,
    commands: SERVE,
    help: 'refuse a non-loopback --bind without --requirepass (yes/no), as Redis does',
    apply: (v, o) => (o.options.protectedMode = v),
    runtime: { get: (c) => c.protectedMode },
  }),
  setting({
    name: 'tls-port',
    type: port,
    default: 0,
    commands: SERVE,
    help: 'TLS port to listen on as well (0 = none)',
    apply: (v, o) => (o.options.tls = { ...o.options.tls, port: v === 0 ? undefined : v }),
    runtime: { get: (c) => c.tlsPort },
  }),
  ...(['cert', 'key', 'ca-cert'] as const).map((file) =>
    setting({
      name: `tls-${file}-file`,
      type: text(notEmpty('a file path')),
      default: null,
      defaultText: '(none)',
      commands: SERVE,
      help: {
        cert: 'server certificate for --tls-port (PEM)',
        key: 'private key of --tls-cert-file (PEM)',
        'ca-cert': 'CA certificate(s) that client certificates must be signed by (PEM)',
      }[file],
      // Read and checked when the server starts.
      apply: (v, o) => (o.options.tls = { ...o.options.tls, [{ cert: 'certFile', key: 'keyFile', 'ca-cert': 'caCertFile' }[file]]: v }),
    }),
  ),
  setting<TlsAuthClients>({
    name: 'tls-auth-clients',
    type: oneOf<TlsAuthClients>(['no', 'yes', 'optional']),
    default: 'yes',
    commands: SERVE,
    help: 'client certificates on --tls-port: yes = required, optional = checked if given, no = ignored',
    apply: (v, o) => (o.options.tls = { ...o.options.tls, authClients: v }),
    runtime: { get: (c) => c.tlsAuthClients },
  }),
  setting({
    name: 'maxclients',
    type: integer(1n, 4294967295n),
    default: 10000,
    commands: SERVE,
    help: 'connections accepted at once',
    apply: toLimits('maxClients'),
    runtime: limit('maxClients'),
  }),
  setting({
    name: 'timeout',
    type: integer(0n, 2147483647n),
    default: 0,
    commands: SERVE,
    help: 'close clients idle this many seconds (0 = never)',
    apply: toLimits('idleTimeoutSeconds'),
    runtime: limit('idleTimeoutSeconds'),
  }),
  setting({
    name: 'proto-max-bulk-len',
    type: memory(1024n * 1024n, LLONG_MAX),
    default: 512 * 1024 * 1024,
    commands: SERVE,
    help: 'largest bulk string in a request, and largest string APPEND and SETRANGE may build',
    apply: toLimits('protoMaxBulkLen'),
    runtime: limit('protoMaxBulkLen'),
  }),
  setting({
    name: 'client-query-buffer-limit',
    type: memory(1024n * 1024n, LLONG_MAX),
    default: 1024 * 1024 * 1024,
    commands: SERVE,
    help: 'unparsed input a client may pile up before it is closed',
    apply: toLimits('queryBufferLimit'),
    runtime: limit('queryBufferLimit'),
  }),
  setting({
    name: 'client-output-buffer-limit',
    type: bufferLimits,
    default: OUTPUT_BUFFER_DEFAULT,
    commands: SERVE,
    help: 'groups of class, hard, soft, seconds, as Redis: a client whose unread replies reach hard bytes, or stay above soft bytes for longer than seconds, is dropped (0 = no limit): normal clients by the normal class, subscribed ones by the pubsub class; slave is kept for CONFIG GET only',
    apply: (v, o) =>
      (o.options.limits = { ...o.options.limits, outputBuffer: { ...(o.options.limits?.outputBuffer ?? OUTPUT_BUFFER_DEFAULT), ...v } }),
    runtime: {
      get: (c) => c.limits.outputBuffer,
      set: (c, v) => (c.limits.outputBuffer = { ...c.limits.outputBuffer, ...v }),
    },
  }),
  setting({
    name: 'metrics-port',
    type: port,
    default: null,
    defaultText: '(off)',
    commands: SERVE,
    help: 'serve Prometheus metrics over HTTP at /metrics on this port (0 = any free port)',
    apply: (v, o) => (o.options.metricsPort = v),
  }),
  setting({
    name: 'metrics-bind',
    type: text(notEmpty('an IP address or host name')),
    default: null,
    defaultText: '(--bind)',
    commands: SERVE,
    help: 'address the metrics endpoint listens on',
    apply: (v, o) => (o.options.metricsHost = v),
  }),
  setting<LogLevel>({
    name: 'loglevel',
    type: oneOf<LogLevel>(LOG_LEVEL_NAMES),
    default: 'notice',
    commands: LOGGING,
    help: `log verbosity: ${LOG_LEVEL_NAMES.join(', ')}`,
    apply: (v, o) => (o.log.level = v),
    runtime: { get: (c) => c.loglevel as LogLevel, set: (c, v) => (c.loglevel = v) },
  }),
  setting<LogFormat>({
    name: 'log-format',
    type: oneOf<LogFormat>(LOG_FORMATS),
    default: 'auto',
    commands: LOGGING,
    help: 'json lines, or text like redis-server (auto = text on a terminal)',
    apply: (v, o) => (o.log.format = v),
  }),
  setting({
    name: 'from',
    env: 'RESPQL_IMPORT_FROM',
    default: null,
    defaultText: '(required)',
    commands: ['import'],
    help: 'Redis to copy from: redis://[user:password@]host:port[/db]',
    type: text((v) => (parseRedisUrl(v) ? null : 'expected redis://[user:password@]host[:port][/db]')),
    quote: hidePassword,
    apply: (v, o) => (o.import.from = v),
  }),
  setting({
    name: 'match',
    env: 'RESPQL_IMPORT_MATCH',
    default: null,
    defaultText: '(all keys)',
    commands: ['import'],
    help: "copy only keys matching this glob (SCAN MATCH), e.g. 'sess:*'",
    type: text((v) => (v ? null : "expected a glob pattern such as 'sess:*'")),
    apply: (v, o) => (o.import.match = v),
  }),
  setting({
    name: 'batch',
    env: 'RESPQL_IMPORT_BATCH',
    type: integer(1n, 100_000n),
    default: 1000,
    commands: ['import'],
    help: 'keys per SCAN page and per write transaction',
    apply: (v, o) => (o.import.batch = v),
  }),
  // Redis settings respql answers CONFIG GET for (clients and exporters ask), with the values respql's design fixes.
  setting({
    name: 'databases',
    type: integer(1n, 2147483647n),
    default: 16,
    commands: SERVE,
    help: 'how many databases SELECT offers (0 to databases-1); database n > 0 gets tables <table>_db<n> the first time it is used',
    apply: (v, o) => (o.options.databases = v),
    runtime: { get: (c) => c.databases, immutable: true },
  }),
  setting({
    name: 'appendonly',
    type: yesNo,
    default: true,
    commands: [],
    help: 'every write is committed before its reply: the durability of appendonly yes, appendfsync always',
    runtime: { get: () => true },
  }),
  setting({
    name: 'appendfsync',
    type: oneOf(['everysec', 'always', 'no'] as const),
    default: 'always',
    commands: [],
    help: 'see appendonly',
    runtime: { get: () => 'always' as const },
  }),
  setting({
    name: 'save',
    type: text(),
    default: '',
    commands: [],
    help: 'no snapshots: the database is the only copy',
    runtime: { get: () => '' },
  }),
  setting({
    name: 'busy-reply-threshold',
    type: integer(0n, LLONG_MAX),
    default: 5000,
    commands: SERVE,
    help: 'ms a script runs before other clients get BUSY (and SCRIPT KILL can stop it); alias lua-time-limit',
    apply: (v, o) => (o.options.busyReplyThresholdMs = v),
    runtime: { get: (c) => c.busyReplyThresholdMs, set: (c, v) => (c.busyReplyThresholdMs = v) },
  }),
  // Redis's older name for busy-reply-threshold: CONFIG GET/SET only, the same value.
  setting({
    name: 'lua-time-limit',
    type: integer(0n, LLONG_MAX),
    default: 5000,
    commands: [],
    help: 'alias of busy-reply-threshold',
    runtime: { get: (c) => c.busyReplyThresholdMs, set: (c, v) => (c.busyReplyThresholdMs = v) },
  }),
  setting({
    name: 'lua-memory-limit',
    configName: 'respql-lua-memory-limit',
    type: memory(16n * 1024n * 1024n, 64n * 1024n * 1024n * 1024n),
    default: 256 * 1024 * 1024,
    commands: SERVE,
    help: 'heap of the script worker (what scripts may allocate); a script past it fails, the server goes on',
    apply: (v, o) => (o.options.luaMemoryMb = Math.floor(v / (1024 * 1024))),
    runtime: { get: (c) => c.luaMemoryBytes },
  }),
  setting({
    name: 'maxmemory',
    type: memory(0n, ULLONG - 1n),
    default: 0,
    commands: [],
    help: 'no memory limit: keys live in the database',
    runtime: { get: () => 0 },
  }),
  setting({
    name: 'maxmemory-policy',
    type: oneOf([
      'volatile-lru',
      'volatile-lfu',
      'volatile-random',
      'volatile-ttl',
      'allkeys-lru',
      'allkeys-lfu',
      'allkeys-random',
      'noeviction',
    ] as const),
    default: 'noeviction',
    commands: [],
    help: 'keys are never evicted',
    runtime: { get: () => 'noeviction' as const },
  }),
];

/** The environment variable of a setting given on the command line. */
export const envName = (s: Setting): string => s.env ?? `RESPQL_${s.name.toUpperCase().replace(/-/g, '_')}`;

/** The name CONFIG GET/SET use. */
export const configName = (s: Setting): string => s.configName ?? s.name;

/** A setting's default as --help and the README show it. */
export function defaultText(s: Setting): string {
  if (s.default === null) return s.defaultText ?? '(none)';
  return (s.type.human ?? s.type.show)(s.default) || '""';
}

export function defaultOf<T>(name: string): T {
  const s = SETTINGS.find((x) => x.name === name);
  if (!s || s.default === null) throw new Error(`no default for setting ${name}`);
  return s.default as T;
}

/** Redis's limits, as the table gives their defaults. */
export const DEFAULT_LIMITS: ConnectionLimits = {
  maxClients: defaultOf('maxclients'),
  idleTimeoutSeconds: defaultOf('timeout'),
  protoMaxBulkLen: defaultOf('proto-max-bulk-len'),
  queryBufferLimit: defaultOf('client-query-buffer-limit'),
  outputBuffer: defaultOf('client-output-buffer-limit'),
};

export const DEFAULTS = {
  port: defaultOf<number>('port'),
  host: defaultOf<string>('bind'),
  table: defaultOf<string>('table'),
  databases: defaultOf<number>('databases'),
  cleanupIntervalMs: defaultOf<number>('cleanup-interval'),
  databaseUrl: defaultOf<string>('database-url'),
  shutdownTimeoutMs: defaultOf<number>('shutdown-timeout'),
  databaseTimeoutMs: defaultOf<number>('database-timeout'),
  loglevel: defaultOf<LogLevel>('loglevel'),
} as const;

/** CONFIG GET/SET's settings by their CONFIG names (lower case). */
export const RUNTIME_SETTINGS: ReadonlyMap<string, Setting> = new Map(
  SETTINGS.filter((s) => s.runtime).map((s) => [configName(s), s] as const),
);
