/** Processes and clean-up: everything started is registered here, so a failure or Ctrl-C
 * still stops every server and removes the temp dir; every command line run is logged for the report. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { VALUE_SIZE } from './options';

export const cleanups: (() => Promise<void> | void)[] = [];
export let cleaningUp: Promise<void> | null = null;

export function onCleanup(action: () => Promise<void> | void): void {
  cleanups.push(action);
}

/** Runs the clean-up actions newest first (servers before the dir they live in). */
export function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const action of cleanups.splice(0).reverse()) {
      try {
        await action();
      } catch (err) {
        process.stderr.write(`bench: clean-up: ${(err as Error).message}\n`);
      }
    }
  })();
  return cleaningUp;
}

/**
 * Every command line run, for the report (so anyone can repeat a figure by hand): each
 * report block collects the commands run while it was measured (see recordCommands).
 */
export const commandLogs = new Set<string[]>();

/** Starts collecting the commands run from now on; returns the list they go into. */
export function recordCommands(): string[] {
  const log: string[] = [];
  commandLogs.add(log);
  return log;
}
/** The run's temp dir, written as $TMP in the logged commands. */
let tmpRoot = '';
export function setTmpRoot(dir: string): void {
  tmpRoot = dir;
}

export function shellQuote(raw: string): string {
  if (raw.startsWith('data=') && raw.length > VALUE_SIZE) return `data="$(head -c ${VALUE_SIZE} /dev/zero | tr '\\0' x)"`;
  const arg = tmpRoot ? raw.split(tmpRoot).join('$TMP') : raw;
  if (/^[\w@%+=:,./-]+$/.test(arg.replace(/\$TMP/g, ''))) return arg;
  // Double quotes keep $TMP expandable; anything else shell-special gets single quotes.
  if (!/["\\`]/.test(arg) && !/\$(?!TMP)/.test(arg)) return `"${arg}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function logCommand(cmd: string, args: readonly string[]): void {
  const line = [cmd, ...args].map(shellQuote).join(' ');
  for (const log of commandLogs) if (!log.includes(line)) log.push(line);
}

/** Starts a long-running server; it is stopped (TERM, then KILL) at clean-up. */
export function startDaemon(cmd: string, args: string[], logFile: string, options: SpawnOptions = {}): ChildProcess {
  logCommand(cmd, args);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup(() => stopChild(child));
  return child;
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects on a non-zero exit or after `timeoutMs`. */
export function run(cmd: string, args: string[], options: SpawnOptions & { timeoutMs?: number; quiet?: boolean } = {}): Promise<RunResult> {
  if (!options.quiet) logCommand(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    // A wedged server must not hang the whole benchmark.
    const timer = setTimeout(() => void child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const forget = () => void child.kill('SIGKILL');
    onCleanup(forget);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const i = cleanups.indexOf(forget);
      if (i >= 0) cleanups.splice(i, 1);
      const result = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
      if (code === 0) resolve(result);
      else
        reject(
          new Error(
            `${cmd} ${args.slice(0, 6).join(' ')} ... exited with ${signal ?? code}: ${result.stderr.trim() || result.stdout.trim()}`,
          ),
        );
    });
  });
}

export function runSync(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '(unknown)';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export function loadAverage(): string {
  return readOr('/proc/loadavg').split(' ').slice(0, 3).join(' ') || 'unknown';
}

export function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
