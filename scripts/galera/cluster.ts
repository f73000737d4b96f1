/**
 * A three-node Galera cluster on loopback ports, with one respql instance per node, for the
 * Galera drill (scripts/galera/drill.ts) and its CI test (test/reliability/galera.test.ts).
 * Debian's mariadb-server 10.11, galera-4 and rsync (a joiner copies the first node's data).
 *
 * Every mariadbd leads a process group of its own (and whatever it runs); stop() and
 * the process 'exit' hook kill every group and every respql, and remove the files.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, cpSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { freePort } from '../../test/support/free-port';
import { MARIADB_DURABILITY } from '../../test/support/mariadb';
import { spawnRespql, type RespqlProcess } from '../../test/support/respql-process';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const DATABASE = 'respql';
const execFileAsync = promisify(execFile);

/**
 * Group communication timings: a node that stops answering is suspected sooner than by default,
 * and the other two go on as the primary component sooner (every commit stalls until then).
 */
const EVS = 'evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.inactive_check_period=PT1S';

/**
 * respql's --database-timeout on the cluster: above the stall of every commit while the cluster
 * evicts a dead node (EVS's suspect timeout, then a view change), so that the instances of the
 * other nodes answer late rather than with an error.
 */
export const DATABASE_TIMEOUT_MS = 10_000;

export interface GaleraOptions {
  /** respql's --database-timeout, ms. */
  databaseTimeoutMs: number;
  /** respql's --cleanup-interval, ms (the sweeper's tick). */
  cleanupIntervalMs: number;
  log: (line: string) => void;
}

export class GaleraNode {
  process: ChildProcess | null = null;
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    /** Galera's group communication port; a joiner receives missed writes (IST) and a copy (SST) on the other two. */
    readonly gcommPort: number,
    readonly istPort: number,
    readonly sstPort: number,
  ) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/${DATABASE}`;
  }

  get running(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** kill -9 of the node's process group: mariadbd and whatever SST script it runs. */
  kill9(): void {
    const pid = this.process?.pid;
    if (pid && pid > 0 && this.running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'mariadb.err'), 'utf8').slice(-6000);
    } catch {
      return '(no log)';
    }
  }

  /** wsrep status variables, by name (wsrep_ prefix dropped). */
  async status(): Promise<Record<string, string>> {
    const c = await createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1000 });
    try {
      const [rows] = await c.query("SHOW STATUS LIKE 'wsrep_%'");
      return Object.fromEntries((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name.slice(6), r.Value]));
    } finally {
      await c.end();
    }
  }
}

export class GaleraCluster {
  readonly nodes: GaleraNode[] = [];
  respqls: RespqlProcess[] = [];
  private readonly user: string;
  private readonly onExit = (): void => this.killAll();

  private constructor(
    readonly dir: string,
    private readonly options: GaleraOptions,
  ) {
    // mariadbd refuses to run as root unless told --user: as root, it runs as the mysql account.
    this.user = process.getuid?.() === 0 ? 'mysql' : (process.env.USER ?? 'mysql');
  }

  static async start(options: GaleraOptions): Promise<GaleraCluster> {
    for (const bin of [MARIADBD, INSTALL_DB, PROVIDER, '/usr/bin/rsync']) {
      try {
        accessSync(bin, fsConstants.R_OK);
      } catch {
        throw new Error(`${bin} not found: apt-get install mariadb-server galera-4 rsync`);
      }
    }
    const cluster = new GaleraCluster(mkdtempSync('/tmp/respql-galera-'), options);
    process.on('exit', cluster.onExit);
    try {
      await cluster.startAll();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private ownByUser(path: string): void {
    if (process.getuid?.() !== 0) return;
    const id = (flag: string) => Number(spawnSync('id', [flag, this.user], { encoding: 'utf8' }).stdout.trim());
    chownSync(path, id('-u'), id('-g'));
  }

  private async startAll(): Promise<void> {
    const { log } = this.options;
    const started = performance.now();
    this.ownByUser(this.dir);
    for (let i = 1; i <= 3; i++) {
      const dir = join(this.dir, `node${i}`);
      mkdirSync(dir);
      this.ownByUser(dir);
      const [port, gcomm, ist, sst] = [await freePort(), await freePort(), await freePort(), await freePort()];
      this.nodes.push(new GaleraNode(`node${i}`, dir, port, gcomm, ist, sst));
    }
    // One system database, copied to each node before it starts (a joiner's is replaced by a copy
    // of the first node's as it joins: the state transfer, by rsync).
    await execFileAsync(INSTALL_DB, [
      '--no-defaults',
      `--user=${this.user}`,
      `--datadir=${join(this.nodes[0].dir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ]);
    for (const node of this.nodes.slice(1))
      cpSync(join(this.nodes[0].dir, 'data'), join(node.dir, 'data'), { recursive: true, preserveTimestamps: true });
    if (process.getuid?.() === 0) spawnSync('chown', ['-R', this.user, this.dir]);
    // The first node starts a new cluster; the other two join it.
    this.startNode(this.nodes[0], true);
    await this.waitSynced([this.nodes[0]], 1, 30_000);
    for (const node of this.nodes.slice(1)) this.startNode(node, false);
    await this.waitSynced(this.nodes, 3, 90_000);
    log(
      `3 Galera nodes synced in ${((performance.now() - started) / 1000).toFixed(1)} s (ports ${this.nodes.map((n) => n.port).join(', ')})`,
    );

    const c = await createConnection({ host: '127.0.0.1', port: this.nodes[0].port, user: 'root' });
    await c.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4`).finally(() => c.end());
    // All three at once, through their three nodes: they race to create the tables, and the losers
    // (a duplicate table, or Knex's lock row lost to a certification conflict) wait and find them made.
    const instances = await Promise.allSettled(this.nodes.map((node) => this.startRespql(node)));
    // Those that started are stopped with the cluster, should another have failed.
    for (const r of instances) if (r.status === 'fulfilled') this.respqls.push(r.value);
    for (const r of instances) if (r.status === 'rejected') throw r.reason;
    log(`respql on ${this.respqls.map((r) => r.port).join(', ')}, one per node`);
  }

  startRespql(node: GaleraNode): Promise<RespqlProcess> {
    return spawnRespql([
      '--database-url',
      node.url,
      '--database-timeout',
      `${this.options.databaseTimeoutMs}ms`,
      '--cleanup-interval',
      `${this.options.cleanupIntervalMs}ms`,
    ]);
  }

  /** Starts a killed node again: it rejoins and receives what it missed (IST, or a full copy). */
  async restartNode(index: number): Promise<void> {
    const node = this.nodes[index];
    if (node.running) throw new Error(`${node.name} is running`);
    this.startNode(node, false);
    await this.waitSynced(this.nodes, 3, 90_000);
  }

  private startNode(node: GaleraNode, bootstrap: boolean): void {
    const peers = this.nodes.map((n) => `127.0.0.1:${n.gcommPort}`).join(',');
    const provider = [
      `base_port=${node.gcommPort}`,
      `gmcast.listen_addr=tcp://127.0.0.1:${node.gcommPort}`,
      `ist.recv_addr=127.0.0.1:${node.istPort}`,
      EVS,
    ];
    node.process = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--user=${this.user}`,
        `--datadir=${join(node.dir, 'data')}`,
        `--socket=${join(node.dir, 'mariadb.sock')}`,
        `--port=${node.port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--log-error=${join(node.dir, 'mariadb.err')}`,
        `--pid-file=${join(node.dir, 'mariadb.pid')}`,
        '--character-set-server=utf8mb4',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=48M',
        '--max-connections=500',
        ...MARIADB_DURABILITY,
        // What Galera requires: row-based replication, interleaved auto-increment locks.
        '--binlog-format=ROW',
        '--innodb-autoinc-lock-mode=2',
        '--wsrep-on=ON',
        `--wsrep-provider=${PROVIDER}`,
        '--wsrep-cluster-name=respql',
        `--wsrep-cluster-address=gcomm://${peers}`,
        `--wsrep-node-name=${node.name}`,
        `--wsrep-node-address=127.0.0.1:${node.gcommPort}`,
        `--wsrep-provider-options=${provider.join(';')}`,
        '--wsrep-sst-method=rsync',
        `--wsrep-sst-receive-address=127.0.0.1:${node.sstPort}`,
        ...(bootstrap ? ['--wsrep-new-cluster'] : []),
      ],
      { cwd: node.dir, stdio: 'ignore', detached: true },
    );
  }

  /** Waits until every node of `nodes` is Synced and sees a cluster of `size`. */
  async waitSynced(nodes: GaleraNode[], size: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        nodes.map((n) =>
          n.status().then(
            (s) => `${s.local_state_comment}/${s.cluster_size}`,
            () => 'down',
          ),
        ),
      );
      if (states.every((s) => s === `Synced/${size}`)) return;
      const dead = nodes.find((n) => !n.running);
      if (dead || performance.now() > deadline)
        throw new Error(
          `Galera nodes not synced (${states.join(', ')})${dead ? `: ${dead.name} exited` : ''}\n--- ${(dead ?? nodes[0]).name} log ---\n${(dead ?? nodes[0]).log()}`,
        );
      await sleep(250);
    }
  }

  /** Kills every respql and every node at once (the exit hook), then removes the files. */
  private killAll(): void {
    for (const r of this.respqls) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    for (const node of this.nodes) node.kill9();
    removeDir(this.dir);
  }

  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    await Promise.all(this.respqls.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null).map((r) => r.kill9()));
    const exits = this.nodes.filter((n) => n.running).map((n) => new Promise<void>((resolve) => n.process!.once('exit', () => resolve())));
    for (const node of this.nodes) node.kill9();
    await Promise.race([Promise.all(exits), sleep(10_000)]);
    removeDir(this.dir);
  }
}

/** Removes the cluster's files; a node's process still dying may be writing to them, so tries again. */
function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
