/**
 * The command line and the environment: reads the settings of src/settings.ts (`--<name>`
 * flags, their environment variables); a bad value stops start-up with one line naming
 * the setting.
 *
 *   respql [serve] [options]     run the server (the default)
 *   respql migrate [options]     apply pending migrations and exit
 *   respql ping [options]        PING a running server; exit 0 on PONG (health checks)
 *   respql import --from URL     copy string keys and their TTLs from a running Redis
 */
import type { RespqlOptions } from './server/server';
import type { LogFormat, LogLevel } from './ops/logger';
import { defaultOf, defaultText, envName, InvalidValue, SETTINGS, type Setting } from './settings';

export { parseRedisUrl, type RedisUrl } from './settings';

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
  /** Settings of the serve command itself rather than of each server process. */
  serve: { workers: number };
}

/** Checks a value with the setting's validator and applies it; `source` is the flag or variable it came from. */
function applySetting(s: Setting, source: string, text: string, into: ParsedCommandLine): void {
  let value: unknown;
  try {
    value = s.type.parse(text);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    const quoted = (s.quote ?? ((t: string) => t))(text);
    throw new ConfigError(`invalid ${source}${quoted === null ? '' : ` '${quoted}'`}: ${err.message}`);
  }
  s.apply!(value, into);
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
    log: { level: defaultOf('loglevel'), format: defaultOf('log-format') },
    import: { from: null, match: null, batch: defaultOf('batch') },
    serve: { workers: defaultOf('workers') },
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
    const setting = flag.startsWith('--') ? SETTINGS.find((s) => s.commands.length && s.name === flag.slice(2)) : undefined;
    if (!setting) throw new ConfigError(`unknown option '${arg}' (see respql --help)`);
    const value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`missing value for ${flag}`);
    flags.push([setting, flag, value]);
  }
  if (special) return { ...parsed, action: special };

  const command = parsed.command;
  for (const s of SETTINGS) {
    const v = env[envName(s)];
    if (v === undefined || v === '' || !s.commands.includes(command)) continue;
    applySetting(s, envName(s), v, parsed);
  }
  for (const [setting, flag, value] of flags) {
    if (!setting.commands.includes(command)) {
      throw new ConfigError(`option ${flag} does not apply to 'respql ${command}' (see respql ${command} --help)`);
    }
    applySetting(setting, flag, value, parsed);
  }
  if (command === 'import' && !parsed.import.from) {
    throw new ConfigError(`missing --from: respql import needs the Redis to copy from, e.g. --from redis://127.0.0.1:6379`);
  }
  return { ...parsed, action: command };
}

export function helpText(command: Subcommand = 'serve'): string {
  const rows = SETTINGS.filter((s) => s.commands.includes(command)).map(
    (s) => `  ${`--${s.name} <value>`.padEnd(28)} ${s.help} (env ${envName(s)}, default ${defaultText(s)})`,
  );
  const usage = command === 'serve' ? 'Usage: respql [command] [options]' : `Usage: respql ${command} [options]`;
  const lines = [
    usage,
    '',
    command === 'serve' ? 'A Redis-protocol session server that keeps every key in SQL.' : SUBCOMMANDS[command],
    '',
  ];
  if (command === 'serve') {
    lines.push('Commands:', ...Object.entries(SUBCOMMANDS).map(([name, text]) => `  ${name.padEnd(28)} ${text}`), '');
    lines.push('Options (serve; see respql <command> --help for the others):');
  } else {
    lines.push('Options:');
  }
  return [...lines, ...rows, `  ${'--help'.padEnd(28)} show this help`, `  ${'--version'.padEnd(28)} print the version`].join('\n');
}
