/**
 * Structured logging with pino, using redis-server's level names
 * (`loglevel debug|verbose|notice|warning`, default notice).
 *
 * Output: JSON lines (pino's format, `level` as the name) when stdout is not a terminal,
 * which is what log collectors and Docker want; on a terminal, a redis-server-like text
 * line (`pid:M 28 Nov 2026 10:00:00.000 * message key=value`) written by the small
 * formatter below rather than pino-pretty (13 dependencies and a worker thread for a few
 * lines at start-up and shutdown).
 *
 * Passwords never reach the log: database URLs go through `redactUrl`, and pino's redact
 * option censors any `password`/`requirepass` field as a second line of defence.
 */
import pino from 'pino';

export const LOG_LEVELS = { debug: 20, verbose: 25, notice: 30, warning: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;
export const LOG_LEVEL_NAMES = Object.keys(LOG_LEVELS) as LogLevel[];

export type LogFormat = 'auto' | 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'text'];

export type Logger = pino.Logger<LogLevel, true>;

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; default stdout. */
  destination?: { write(chunk: string): unknown; isTTY?: boolean };
}

/** Replaces the password of a `scheme://user:password@host` URL with `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** Redacts every URL password inside a free text (error messages may quote a connection string). */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, '$1:***@');
}

// redis-server's level marks: . debug, - verbose, * notice, # warning.
const MARKS: Record<number, string> = { 20: '.', 25: '-', 30: '*', 40: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RESERVED = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One pino JSON line -> one human-readable line in redis-server's style. */
export function formatTextLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const d = new Date(typeof entry.time === 'number' ? entry.time : Date.now());
  const stamp =
    `${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  const levelNumber = typeof entry.level === 'number' ? entry.level : (LOG_LEVELS[entry.level as LogLevel] ?? 30);
  const fields = Object.entries(entry)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) =>
      k === 'err' && v && typeof v === 'object' ? `err=${formatValue((v as { message?: unknown }).message)}` : `${k}=${formatValue(v)}`,
    );
  const pid = typeof entry.pid === 'number' ? entry.pid : process.pid;
  const msg = typeof entry.msg === 'string' ? entry.msg : entry.msg == null ? '' : JSON.stringify(entry.msg);
  return `${pid}:M ${stamp} ${MARKS[levelNumber] ?? '*'} ${msg}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.destination ?? process.stdout;
  const text = options.format === 'text' || ((options.format ?? 'auto') === 'auto' && out.isTTY === true);
  // Synchronous writes: the volume is tiny, and lines written just before process.exit() must not be lost.
  const destination: pino.DestinationStream = text
    ? { write: (line: string) => void out.write(formatTextLine(line)) }
    : out === process.stdout
      ? pino.destination({ dest: 1, sync: true })
      : { write: (line: string) => void out.write(line) };
  return pino<LogLevel, true>(
    {
      level: options.level ?? 'notice',
      customLevels: LOG_LEVELS,
      useOnlyCustomLevels: true,
      base: { pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', 'requirepass', '*.password', '*.requirepass'],
        censor: '***',
      },
    },
    destination,
  );
}
