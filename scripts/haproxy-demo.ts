/**
 * Load-balanced demonstration: HAProxy in TCP mode in front of two respql instances on one
 * PostgreSQL, with connect-redis session traffic from node-redis clients that reconnect
 * through the balancer. One instance is killed with SIGKILL mid-run; the clients reconnect
 * through HAProxy to the other one and every session whose write was acknowledged is still
 * there at the end.
 *
 *   npm run build && node dist/scripts/haproxy-demo.js [--seconds 10] [--clients 6]
 *                                                      [--database-url postgres://...]
 *
 * Without --database-url a throwaway PostgreSQL cluster is started (Debian's PostgreSQL 15
 * binaries, as the tests use). Needs Debian's `haproxy` (apt-get install haproxy).
 * test/scaleout/haproxy.test.ts runs it and checks the figures it returns.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient } from 'redis';
import { startPostgres, type PostgresServer } from '../test/support/postgres';
import { freePort } from '../test/support/free-port';
import { CLI, spawnRespql, type RespqlProcess } from '../test/support/respql-process';

export interface DemoOptions {
  /** Traffic duration; the first instance is killed at 40% of it. */
  seconds: number;
  /** Concurrent node-redis clients (each its own connection through HAProxy). */
  clients: number;
  /** An existing PostgreSQL; default a throwaway cluster. */
  databaseUrl?: string;
  log: (line: string) => void;
}

export interface DemoResult {
  /** Sessions whose SET was acknowledged. */
  sessionsWritten: number;
  /** Reads of an acknowledged session that came back missing or different, during the run. */
  readsLost: number;
  reads: number;
  /** Acknowledged sessions missing or different at the end (read through the balancer). */
  missingAtEnd: number;
  /** Operations that failed while the killed instance's connections were cut (then retried). */
  failedAttempts: number;
  /** node-redis 'reconnecting' events. */
  reconnects: number;
  /** Operations acknowledged before and after the kill. */
  opsBeforeKill: number;
  opsAfterKill: number;
  /** From the kill to the last client's first acknowledged operation afterwards. */
  failoverMs: number;
  /** HAProxy's view per server (show stat): status and sessions handled. */
  servers: { name: string; status: string; sessions: number }[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function haproxyConfig(dir: string, frontendPort: number, backends: number[]): string {
  return [
    'global',
    `    stats socket ${path.join(dir, 'haproxy.sock')} mode 600 level admin`,
    'defaults',
    '    mode tcp',
    '    timeout connect 1s',
    '    timeout client 1h',
    '    timeout server 1h',
    '    timeout check 1s',
    // A connection refused by a dead instance is retried, the last time on another server.
    '    retries 2',
    '    option redispatch',
    'frontend redis',
    `    bind 127.0.0.1:${frontendPort}`,
    '    default_backend respql',
    'backend respql',
    '    balance leastconn',
    // Health check: PING, expect +PONG.
    '    option redis-check',
    '    default-server check inter 250ms fall 2 rise 2',
    ...backends.map((port, i) => `    server respql${i + 1} 127.0.0.1:${port}`),
    '',
  ].join('\n');
}

/** HAProxy's `show stat` CSV for the backend's servers. */
async function showStat(socketPath: string): Promise<{ name: string; status: string; sessions: number }[]> {
  const text = await new Promise<string>((resolve, reject) => {
    let out = '';
    const socket = net.connect(socketPath, () => socket.end('show stat\n'));
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
  const [header, ...rows] = text.trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const col = (row: string[], name: string) => row[columns.indexOf(name)];
  return rows
    .map((line) => line.split(','))
    .filter((row) => col(row, 'pxname') === 'respql' && /^respql\d/.test(col(row, 'svname')))
    .map((row) => ({ name: col(row, 'svname'), status: col(row, 'status'), sessions: Number(col(row, 'stot')) }));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-haproxy-'));
  let postgres: PostgresServer | null = null;
  const instances: RespqlProcess[] = [];
  let haproxy: ChildProcess | null = null;
  const clients: { destroy(): void }[] = [];
  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      log('starting a throwaway PostgreSQL...');
      postgres = await startPostgres();
      databaseUrl = postgres.url;
    }
    // Create the tables once, before the instances start (they then skip migrations).
    const migrate = spawnSync(process.execPath, [CLI, 'migrate', '--database-url', databaseUrl], { encoding: 'utf8' });
    if (migrate.status !== 0) throw new Error(`respql migrate failed:\n${migrate.stdout}${migrate.stderr}`);
    const args = ['--database-url', databaseUrl, '--migrate', 'no', '--cleanup-interval', '1s'];
    instances.push(...(await Promise.all([spawnRespql(args), spawnRespql(args)])));
    log(`respql instances on ports ${instances.map((i) => i.port).join(' and ')}`);

    const frontendPort = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      haproxyConfig(
        dir,
        frontendPort,
        instances.map((i) => i.port),
      ),
    );
    const check = spawnSync('haproxy', ['-c', '-q', '-f', cfg], { encoding: 'utf8' });
    if (check.error) throw new Error(`haproxy not found (${check.error.message}): apt-get install haproxy`);
    if (check.status !== 0) throw new Error(`invalid haproxy.cfg:\n${check.stdout}${check.stderr}`);
    let haproxyOutput = '';
    haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d) => (haproxyOutput += d));
    haproxy.stderr!.on('data', (d) => (haproxyOutput += d));
    const sock = path.join(dir, 'haproxy.sock');
    await waitUntil('HAProxy to see both instances UP', async () => {
      const servers = await showStat(sock);
      return servers.length === 2 && servers.every((s) => s.status === 'UP');
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${haproxyOutput}`);
    });
    log(`HAProxy on 127.0.0.1:${frontendPort} (TCP, leastconn, option redis-check)`);

    // The traffic: connect-redis's store calls, as express-session makes them.
    let reconnects = 0;
    for (let i = 0; i < options.clients; i++) {
      const client = createClient({
        url: `redis://127.0.0.1:${frontendPort}`,
        socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) },
      });
      client.on('error', () => undefined); // reported per operation below
      client.on('reconnecting', () => reconnects++);
      await client.connect();
      clients.push(client);
    }
    const stores = clients.map((client) => new RedisStore({ client, prefix: 'sess:' }));
    const acked = new Map<string, string>();
    let failedAttempts = 0;
    let reads = 0;
    let readsLost = 0;
    let opsBeforeKill = 0;
    let opsAfterKill = 0;
    let killedAt = 0;
    const firstAfterKill: number[] = [];

    /** An operation, retried as a web app's next request would be, until it is acknowledged. */
    const attempt = async <T>(worker: number, op: () => Promise<T>): Promise<T> => {
      for (let tries = 1; ; tries++) {
        try {
          const value = await op();
          if (killedAt) {
            opsAfterKill++;
            firstAfterKill[worker] ??= Date.now() - killedAt;
          } else opsBeforeKill++;
          return value;
        } catch (err) {
          failedAttempts++;
          if (tries >= 100) throw err;
          await sleep(50);
        }
      }
    };

    const deadline = Date.now() + options.seconds * 1000;
    const worker = async (w: number) => {
      const store = stores[w];
      for (let n = 0; Date.now() < deadline; n++) {
        const sid = `${w}-${n}`;
        const session = { cookie: { originalMaxAge: 3_600_000 }, user: `user${w}`, n } as unknown as SessionData;
        await attempt(w, () => store.set(sid, session));
        acked.set(sid, JSON.stringify(session));
        // Another request of some earlier session, possibly written through the other instance.
        const sids = [...acked.keys()];
        const other = sids[Math.floor(Math.random() * sids.length)];
        const got: unknown = await attempt(w, () => store.get(other));
        reads++;
        if (JSON.stringify(got) !== acked.get(other)) readsLost++;
        else await attempt(w, () => store.touch(other, got as SessionData));
      }
    };
    const killer = (async () => {
      await sleep(options.seconds * 400);
      const before = await showStat(sock);
      log(
        `killing respql1 (SIGKILL) after ${opsBeforeKill} operations; sessions so far per server: ${before.map((s) => `${s.name}=${s.sessions}`).join(', ')}`,
      );
      killedAt = Date.now();
      await instances[0].kill9();
    })();
    await Promise.all([...clients.map((_, w) => worker(w)), killer]);

    // Every acknowledged session, read back through the balancer.
    let missingAtEnd = 0;
    for (const [sid, json] of acked) {
      if (JSON.stringify(await attempt(0, () => stores[0].get(sid))) !== json) missingAtEnd++;
    }
    const servers = await showStat(sock);
    const result: DemoResult = {
      sessionsWritten: acked.size,
      reads,
      readsLost,
      missingAtEnd,
      failedAttempts,
      reconnects,
      opsBeforeKill,
      opsAfterKill,
      failoverMs: firstAfterKill.filter((ms) => ms !== undefined).length === clients.length ? Math.max(...firstAfterKill) : -1,
      servers,
    };
    log(
      `${result.sessionsWritten} sessions written, ${result.reads} reads (${result.readsLost} lost), ` +
        `${result.missingAtEnd} missing at the end; ${result.failedAttempts} failed attempts retried, ` +
        `${result.reconnects} reconnects, all clients served again ${result.failoverMs} ms after the kill`,
    );
    log(`HAProxy: ${servers.map((s) => `${s.name} ${s.status} (${s.sessions} sessions)`).join(', ')}`);
    return result;
  } finally {
    for (const client of clients) client.destroy();
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((resolve) => haproxy!.once('exit', resolve));
      haproxy.kill('SIGTERM');
      await exited;
    }
    for (const instance of instances) if (instance.proc.exitCode === null && instance.proc.signalCode === null) await instance.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): DemoOptions {
  const options: DemoOptions = { seconds: 10, clients: 6, log: (line) => console.log(line) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--seconds' && Number(value) > 0) options.seconds = Number(value);
    else if (flag === '--clients' && Number.isInteger(Number(value)) && Number(value) > 0) options.clients = Number(value);
    else if (flag === '--database-url' && value) options.databaseUrl = value;
    else {
      console.error(`usage: haproxy-demo [--seconds N] [--clients N] [--database-url postgres://...] (bad ${flag} ${value ?? ''})`);
      process.exit(2);
    }
  }
  return options;
}

if (require.main === module) {
  runDemo(parseArgs(process.argv.slice(2))).then(
    (r) => process.exit(r.missingAtEnd === 0 && r.readsLost === 0 ? 0 : 1),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
