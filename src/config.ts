/**
 * Command-line and environment settings. One table describes every setting; a bad value
 * stops start-up with one line naming the setting.
 */
import { DEFAULTS, type RespqlOptions } from './server/server';

export class ConfigError extends Error {}

interface Setting {
  flag: string;
  env: string;
  help: string;
  defaultText: string;
  apply(value: string, into: RespqlOptions): void;
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

export const SETTINGS: Setting[] = [
  {
    flag: '--port', env: 'RESPQL_PORT', help: 'TCP port to listen on (0 = any free port)', defaultText: String(DEFAULTS.port),
    apply: (v, o) => (o.port = portNumber('--port', v)),
  },
  {
    flag: '--bind', env: 'RESPQL_BIND', help: 'address to listen on', defaultText: DEFAULTS.host,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid --bind '': expected an IP address or host name`);
      o.host = v;
    },
  },
  {
    flag: '--database-url', env: 'DATABASE_URL', help: 'postgres://user@host:port/db, or a SQLite file path', defaultText: DEFAULTS.databaseUrl,
    apply(v, o) {
      if (!v.trim()) throw new ConfigError(`invalid --database-url '': expected a postgres:// URL or a SQLite file path`);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !/^(postgres(ql)?|sqlite):\/\//i.test(v)) {
        throw new ConfigError(`invalid --database-url '${v.replace(/\/\/[^@/]*@/, '//***@')}': only postgres:// URLs and SQLite file paths are supported`);
      }
      o.databaseUrl = v;
    },
  },
  {
    flag: '--table', env: 'RESPQL_TABLE', help: 'name of the sessions table', defaultText: DEFAULTS.table,
    apply(v, o) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,50}$/.test(v)) {
        throw new ConfigError(`invalid --table '${v}': expected letters, digits and underscores, not starting with a digit`);
      }
      o.table = v;
    },
  },
  {
    flag: '--cleanup-interval', env: 'RESPQL_CLEANUP_INTERVAL', help: 'how often expired rows are deleted (0 disables)', defaultText: '5m',
    apply: (v, o) => (o.cleanupIntervalMs = durationMs('--cleanup-interval', v)),
  },
  {
    flag: '--requirepass', env: 'RESPQL_REQUIREPASS', help: 'password clients must give with AUTH', defaultText: '(none)',
    apply(v, o) {
      if (!v) throw new ConfigError(`invalid --requirepass '': the password must not be empty`);
      o.requirepass = v;
    },
  },
  {
    flag: '--migrate', env: 'RESPQL_MIGRATE', help: 'apply pending migrations at start-up (yes/no)', defaultText: 'yes',
    apply(v, o) {
      if (!/^(yes|no|true|false|1|0)$/i.test(v)) throw new ConfigError(`invalid --migrate '${v}': expected yes or no`);
      o.migrate = /^(yes|true|1)$/i.test(v);
    },
  },
];

export interface ParsedCommandLine {
  action: 'serve' | 'help' | 'version';
  options: RespqlOptions;
}

/** Environment first, then flags (flags win). `--flag value` and `--flag=value` both work. */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const options: RespqlOptions = {};
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') {
      try {
        s.apply(v, options);
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(err.message.replace(s.flag, s.env));
        throw err;
      }
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { action: 'help', options };
    if (arg === '--version' || arg === '-v') return { action: 'version', options };
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) throw new ConfigError(`unknown option '${arg}' (see respql --help)`);
    let value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`missing value for ${flag}`);
    setting.apply(value, options);
  }
  return { action: 'serve', options };
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => `  ${(s.flag + ' <value>').padEnd(28)} ${s.help} (env ${s.env}, default ${s.defaultText})`);
  return [
    'Usage: respql [options]',
    '',
    'A Redis-protocol session server that keeps every key in SQL.',
    '',
    'Options:',
    ...rows,
    `  ${'--help'.padEnd(28)} show this help`,
    `  ${'--version'.padEnd(28)} print the version`,
  ].join('\n');
}
