/**
 * A PostgreSQL HA cluster as production runs one, on loopback ports, for the failover drill
 * (scripts/failover/drill.ts): etcd, three PostgreSQL 15 nodes under Patroni with synchronous
 * replication, HAProxy routing to whichever node Patroni's REST API calls the primary, and two
 * respql instances behind an HAProxy of their own. Debian's packages: etcd-server, patroni,
 * postgresql, haproxy.
 *
 * Every process it starts leads a process group of its own; PostgreSQL's are found by the
 * postmaster's pid. stop() and the process 'exit' hook take down everything, frozen nodes included.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/free-port';
import { PG_BIN_DIR } from '../../test/support/postgres';
import { spawnRespql, type RespqlProcess } from '../../test/support/respql-process';

const ETCD = '/usr/bin/etcd';
const PATRONI = '/usr/bin/patroni';
const PATRONICTL = '/usr/bin/patronictl';
const HAPROXY = '/usr/sbin/haproxy';
const SCOPE = 'respql-failover';
const execFileAsync = promisify(execFile);

export interface ClusterOptions {
  /** Patroni's leader lease, s: how long a dead or frozen primary keeps the lock. */
  ttl: number;
  /** synchronous_mode_strict: no commit at all while the primary has no synchronous standby. */
  strict: boolean;
  /** respql's --database-timeout, ms. */
  databaseTimeoutMs: number;
  log: (line: string) => void;
}

/** Patroni's view of one member (GET /cluster). */
export interface Member {
  name: string;
  role: string;
  state: string;
  lag?: number | string;
}

export class PatroniNode {
  patroni: ChildProcess | null = null;
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly pgPort: number,
    readonly restPort: number,
  ) {}

  get config(): string {
    return join(this.dir, 'patroni.yml');
  }

  /** The postmaster's pid, or null when none is running. */
  postmaster(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  /** Patroni's process group (it and what it runs: pg_rewind, pg_basebackup), if it runs. */
  patroniGroup(): number | null {
    const p = this.patroni;
    return p?.pid && p.exitCode === null && p.signalCode === null ? p.pid : null;
  }

  /** The postmaster and its children (each PostgreSQL process is a session leader of its own: no one group holds them). */
  postgresPids(): number[] {
    const postmaster = this.postmaster();
    if (postmaster === null) return [];
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).stdout ?? '';
    return [
      postmaster,
      ...children
        .split('\n')
        .filter((l) => l.trim())
        .map(Number),
    ];
  }

  /** `signal` to every process of the node: Patroni's group, then PostgreSQL's. */
  signal(signal: NodeJS.Signals): void {
    const group = this.patroniGroup();
    if (group !== null) signalGroup(group, signal);
    for (const pid of this.postgresPids()) signalPid(pid, signal);
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  // kill(-0) would be our own process group.
  if (group <= 0) return;
  try {
    process.kill(-group, signal);
  } catch {
    // already gone
  }
}

export class FailoverCluster {
  readonly nodes: PatroniNode[] = [];
  respqls: RespqlProcess[] = [];
  /** The HAProxy port in front of the PostgreSQL nodes, and the one in front of the respql instances. */
  pgPort = 0;
  respqlPort = 0;
  private etcd: ChildProcess | null = null;
  private etcdDir = '';
  private haproxies: ChildProcess[] = [];
  private stopped = false;
  private readonly onExit = (): void => this.killAll();

  private constructor(
    readonly dir: string,
    private readonly options: ClusterOptions,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async start(options: ClusterOptions): Promise<FailoverCluster> {
    for (const bin of [ETCD, PATRONI, PATRONICTL, HAPROXY, join(PG_BIN_DIR, 'postgres')])
      if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install etcd-server patroni postgresql haproxy`);
    // Under /tmp: the postgres account must be able to enter it.
    const dir = mkdtempSync('/tmp/respql-failover-');
    const owner = postgresAccount();
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const cluster = new FailoverCluster(dir, options, owner);
    process.on('exit', cluster.onExit);
    try {
      await cluster.startAll();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private async startAll(): Promise<void> {
    const { log } = this.options;
    const started = performance.now();
    const etcdPort = await this.startEtcd();
    for (let i = 1; i <= 3; i++) {
      const nodeDir = join(this.dir, `node${i}`);
      mkdirSync(nodeDir);
      if (this.owner) chownSync(nodeDir, this.owner.uid, this.owner.gid);
      const node = new PatroniNode(`node${i}`, nodeDir, await freePort(), await freePort());
      writeFileSync(node.config, JSON.stringify(this.patroniConfig(node, etcdPort), null, 2));
      this.nodes.push(node);
    }
    // All three at once: one bootstraps, the others clone it as soon as it is up.
    for (const node of this.nodes) this.startPatroni(node);
    this.pgPort = await this.startHaproxy('postgres', this.postgresHaproxy.bind(this));
    await this.waitHealthy('the cluster to bootstrap', 120_000);
    log(`etcd, 3 Patroni nodes (synchronous) and HAProxy up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const url = `postgres://postgres@127.0.0.1:${this.pgPort}/postgres`;
    const args = ['--database-url', url, '--database-timeout', `${this.options.databaseTimeoutMs}ms`];
    // The first creates the tables, then the second starts on them.
    this.respqls.push(await spawnRespql(args));
    this.respqls.push(await spawnRespql([...args, '--migrate', 'no']));
    this.respqlPort = await this.startHaproxy('respql', this.respqlHaproxy.bind(this));
    log(`respql on ${this.respqls.map((r) => r.port).join(' and ')} behind HAProxy on ${this.respqlPort}`);
  }

  private async startEtcd(): Promise<number> {
    // The DCS's own durability is not under test: on tmpfs its fsyncs cannot stall Patroni's lease.
    this.etcdDir = mkdtempSync(existsSync('/dev/shm') ? '/dev/shm/respql-etcd-' : join(this.dir, 'etcd-'));
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--enable-v2=true',
      '--name',
      'etcd1',
      '--data-dir',
      join(this.etcdDir, 'data'),
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
    ];
    args.push('--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `etcd1=${peer}`);
    this.etcd = this.spawnLogged(ETCD, args, join(this.dir, 'etcd.log'));
    await waitFor('etcd', 30_000, async () => (await fetchJson(`${client}/health`))?.health === 'true');
    return clientPort;
  }

  private patroniConfig(node: PatroniNode, etcdPort: number): object {
    const { ttl } = this.options;
    const local = '127.0.0.1';
    return {
      scope: SCOPE,
      name: node.name,
      log: { level: 'INFO', dir: node.dir, file_num: 1 },
      restapi: { listen: `${local}:${node.restPort}`, connect_address: `${local}:${node.restPort}` },
      // etcd's v2 API, not etcd3: Debian's Patroni 3.0.2 has etcd3 renew an expired leader key
      // unconditionally, so a frozen primary that wakes up takes the lock back from the new one
      // (fixed in 3.0.3, patroni/patroni#2689); the v2 client renews by compare-and-swap.
      etcd: { hosts: [`${local}:${etcdPort}`] },
      bootstrap: {
        dcs: {
          // Tight timings: a loop every second, the lock lost `ttl` s after its holder stops renewing it.
          ttl,
          loop_wait: 1,
          retry_timeout: Math.max(1, Math.floor((ttl - 1) / 2)),
          // A crashed primary is failed over, not restarted in place.
          primary_start_timeout: 0,
          // The synchronous standby has every acknowledged commit: a replay backlog on a busy
          // machine (beyond the default 1 MB) only delays its promotion, it must not forbid it.
          maximum_lag_on_failover: 256 * 1024 * 1024,
          // A commit returns once a standby has it, and only that standby may be promoted. Unless
          // strict, a new primary whose standby has not caught up yet commits alone meanwhile (it
          // cannot fail over until one has) rather than refuse writes.
          synchronous_mode: true,
          synchronous_mode_strict: this.options.strict,
          postgresql: {
            use_pg_rewind: true,
            use_slots: true,
            parameters: {
              max_connections: 100,
              shared_buffers: '32MB',
              wal_keep_size: '256MB',
              max_wal_senders: 10,
              max_replication_slots: 10,
              hot_standby: 'on',
              // A standby whose primary went away tries the new one soon, not after the default 5 s.
              wal_retrieve_retry_interval: '250ms',
            },
          },
        },
        initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
      },
      postgresql: {
        listen: `${local}:${node.pgPort}`,
        connect_address: `${local}:${node.pgPort}`,
        data_dir: join(node.dir, 'data'),
        bin_dir: PG_BIN_DIR,
        pgpass: join(node.dir, 'pgpass'),
        authentication: { superuser: { username: 'postgres' }, replication: { username: 'postgres' }, rewind: { username: 'postgres' } },
        pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
        parameters: {
          unix_socket_directories: node.dir,
          logging_collector: 'on',
          log_directory: join(node.dir, 'log'),
          // In the data dir, not /dev/shm: a killed node leaves nothing behind once its dir is gone.
          dynamic_shared_memory_type: 'mmap',
        },
        basebackup: [{ checkpoint: 'fast' }],
        // A node that cannot rewind (it diverged too far) clones the primary again.
        remove_data_directory_on_rewind_failure: true,
        remove_data_directory_on_diverged_timelines: true,
      },
    };
  }

  /** (Re)starts a node's Patroni, as the postgres account, in a process group of its own. */
  startPatroni(node: PatroniNode): void {
    node.patroni = this.spawnLogged(PATRONI, [node.config], join(node.dir, 'patroni.out'), node.dir, this.owner);
  }

  private spawnLogged(file: string, args: string[], logFile: string, cwd = this.dir, owner?: { uid: number; gid: number }): ChildProcess {
    const out = openSync(logFile, 'a');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', HOME: cwd };
    return spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', out, out], ...owner });
  }

  private postgresHaproxy(port: number): string[] {
    return [
      'listen postgres',
      `    bind 127.0.0.1:${port}`,
      // Patroni answers 200 on /primary only on the node that holds the leader lock.
      '    option httpchk GET /primary',
      '    http-check expect status 200',
      // A node that stops being primary loses its client connections at once.
      '    default-server inter 300ms fall 2 rise 1 on-marked-down shutdown-sessions',
      // A refused connection (a dead postmaster not yet marked down) fails at once: each retry
      // would wait a second first, past respql's connect timeout.
      '    retries 0',
      ...this.nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.pgPort} maxconn 100 check port ${n.restPort}`),
    ];
  }

  private respqlHaproxy(port: number): string[] {
    return [
      'listen respql',
      `    bind 127.0.0.1:${port}`,
      '    balance leastconn',
      '    option redis-check',
      '    default-server check inter 500ms fall 2 rise 2',
      ...this.respqls.map((r, i) => `    server respql${i + 1} 127.0.0.1:${r.port}`),
    ];
  }

  private async startHaproxy(name: string, section: (port: number) => string[]): Promise<number> {
    const port = await freePort();
    const cfg = join(this.dir, `haproxy-${name}.cfg`);
    const defaults = [
      'defaults',
      '    mode tcp',
      '    timeout connect 1s',
      '    timeout client 1h',
      '    timeout server 1h',
      '    timeout check 1s',
    ];
    writeFileSync(cfg, [...defaults, ...section(port), ''].join('\n'));
    const check = spawnSync(HAPROXY, ['-c', '-q', '-f', cfg], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`invalid ${cfg}:\n${check.stdout}${check.stderr}`);
    this.haproxies.push(this.spawnLogged(HAPROXY, ['-db', '-f', cfg], join(this.dir, `haproxy-${name}.log`)));
    await waitFor(`HAProxy (${name})`, 10_000, () => accepts(port));
    return port;
  }

  /** Patroni's view of the cluster, from the first node whose REST API answers; null if none does. */
  async members(): Promise<Member[] | null> {
    // All at once: a frozen node's API does not answer at all.
    const asked = this.nodes.map(async (node) => {
      const cluster = (await fetchJson(`http://127.0.0.1:${node.restPort}/cluster`)) as { members?: Member[] } | null;
      if (!cluster?.members) throw new Error('no answer');
      return cluster.members;
    });
    return Promise.any(asked).catch(() => null);
  }

  /** The node whose Patroni runs it as a writable primary, or null. */
  async primary(): Promise<PatroniNode | null> {
    const members = await this.members();
    const leader = members?.find((m) => m.role === 'leader' && m.state === 'running');
    return this.nodes.find((n) => n.name === leader?.name) ?? null;
  }

  /** Waits for a running leader, a synchronous standby and every node streaming from the leader. */
  async waitHealthy(what: string, timeoutMs: number): Promise<PatroniNode> {
    let last: Member[] | null = null;
    await waitFor(what, timeoutMs, async () => {
      last = await this.members();
      if (!last || last.length !== this.nodes.length) return false;
      const running = last.every((m) => m.state === 'running' || m.state === 'streaming');
      return running && last.some((m) => m.role === 'leader') && last.some((m) => m.role === 'sync_standby');
    }).catch((err: Error) => {
      throw new Error(`${err.message}; members: ${JSON.stringify(last)}\n${this.logTail()}`);
    });
    return (await this.primary())!;
  }

  /** `patronictl switchover --force` from the current leader to the synchronous standby. */
  async switchover(): Promise<{ from: string; to: string }> {
    const members = (await this.members()) ?? [];
    const from = members.find((m) => m.role === 'leader')?.name;
    const to = members.find((m) => m.role === 'sync_standby')?.name;
    if (!from || !to) throw new Error(`no leader and sync standby to switch over: ${JSON.stringify(members)}`);
    // Not execFileSync: the clients' timings must go on while it runs.
    await execFileAsync(PATRONICTL, ['-c', this.nodes[0].config, 'switchover', SCOPE, '--leader', from, '--candidate', to, '--force']);
    return { from, to };
  }

  /** The end of each node's Patroni log, for a failure's message. */
  logTail(lines = 15): string {
    return this.nodes
      .map((n) => {
        const text = ['patroni.out', 'patroni.log']
          .map((file) => join(n.dir, file))
          .filter((file) => existsSync(file))
          .map((file) => readFileSync(file, 'utf8'))
          .join('');
        return `--- ${n.name} (Patroni's log) ---\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** SIGKILL to every process group it started (woken first, in case one is frozen); synchronous, for 'exit'. */
  private killAll(): void {
    for (const r of this.respqls) r.proc.kill('SIGKILL');
    for (const node of this.nodes) {
      node.signal('SIGCONT');
      node.signal('SIGKILL');
    }
    for (const p of [this.etcd, ...this.haproxies]) if (p?.pid && p.exitCode === null) signalGroup(p.pid, 'SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.onExit);
    this.killAll();
    // Backends left by a killed postmaster exit by themselves: wait for the data to be free.
    await waitFor('the nodes to exit', 10_000, () => Promise.resolve(this.nodes.every((n) => n.postmaster() === null))).catch(
      () => undefined,
    );
    rmSync(this.dir, { recursive: true, force: true });
    if (this.etcdDir) rmSync(this.etcdDir, { recursive: true, force: true });
  }
}

function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function fetchJson(url: string, timeoutMs = 1000): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` every 100 ms until it holds, or fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
