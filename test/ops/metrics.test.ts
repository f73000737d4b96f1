/**
 * Metrics: INFO's counters as redis-server keeps them (commandstats proven against a real
 * redis-server), redis-cli --stat reading them, and the optional Prometheus endpoint
 * exporting the same figures, on both backends.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError, parseCommandLine } from '../../src/config';
import { VERSION } from '../../src/version';
import { typedTables } from '../../src/store/migrations/typed-keys';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { RawClient, isErrorReply, type Reply } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { cli, freePort, logLines, startProcess, tempDir } from './helpers';

/** Calls, failures (error replies) and refusals (arity, MULTI) of several commands. */
const SCRIPT: string[][] = [
  ['CONFIG', 'RESETSTAT'], // the harness's readiness PING is not part of the script
  ['SET', 'a', '1'],
  ['SET', 'b', 'x'],
  ['GET', 'a'],
  ['GET', 'missing'],
  ['GET'], // wrong arity: rejected_calls
  ['INCR', 'b'], // not an integer: failed_calls
  ['INCR', 'a'],
  ['SET', 'a', '1', 'EX', '0'], // invalid expire time: failed_calls
  ['CONFIG', 'GET', 'port'], // counted as config|get
  ['CONFIG', 'NOPE'], // unknown subcommand: no line
  ['NOPE'], // unknown command: no line
  ['MULTI'],
  ['SET', 'c', '1'], // queued: counted only if EXEC runs it
  ['GET'], // refused inside MULTI
  ['EXEC'], // EXECABORT: a failed exec
  ['MULTI'],
  ['INCR', 'b'], // fails inside EXEC
  ['GET', 'a'],
  ['EXEC'],
  ['DEL', 'a', 'b', 'c'],
  ['PING'],
];

async function runScript(port: number): Promise<Reply[]> {
  const client = await RawClient.connect(port);
  try {
    const replies: Reply[] = [];
    for (const argv of SCRIPT) replies.push(await client.send(...argv));
    return replies;
  } finally {
    await client.close();
  }
}

/** INFO's `field:value` lines as a map. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

async function info(port: number, ...sections: string[]): Promise<Map<string, string>> {
  const client = await RawClient.connect(port);
  try {
    const reply = await client.send('INFO', ...sections);
    return infoFields((reply as Buffer).toString());
  } finally {
    await client.close();
  }
}

/** cmdstat_<name> lines without the timings: name -> 'calls=..,rejected_calls=..,failed_calls=..'. */
function commandCounts(fields: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of fields) {
    if (!key.startsWith('cmdstat_')) continue;
    const parts = Object.fromEntries(value.split(',').map((p) => p.split('=')));
    out[key.slice('cmdstat_'.length)] = `calls=${parts.calls},rejected_calls=${parts.rejected_calls},failed_calls=${parts.failed_calls}`;
  }
  return out;
}

/** One sample of the Prometheus text format: `name{labels} value`. */
function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series} in:\n${body}`);
  return Number(line.slice(series.length + 1));
}

async function scrape(respql: RunningRespql): Promise<string> {
  const { port } = respql.server.metricsAddress()!;
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('INFO commandstats counts as redis-server does', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let expected: { replies: Reply[]; counts: Record<string, string>; processed: string };
  before(async () => {
    redis = await startRedisServer();
    const replies = await runScript(redis.port);
    const fields = await info(redis.port, 'commandstats', 'stats');
    expected = { replies, counts: commandCounts(fields), processed: fields.get('total_commands_processed')! };
  });
  after(async () => redis.stop());

  for (const backend of BACKENDS) {
    it(`calls, rejected_calls, failed_calls and total_commands_processed (${backend})`, async () => {
      const respql = await startRespql(backend);
      try {
        const replies = await runScript(respql.port);
        expect(replies.map((r) => (isErrorReply(r) ? 'error' : 'ok'))).to.deep.equal(
          expected.replies.map((r) => (isErrorReply(r) ? 'error' : 'ok')),
        );
        const fields = await info(respql.port, 'commandstats', 'stats');
        expect(commandCounts(fields)).to.deep.equal(expected.counts);
        expect(fields.get('total_commands_processed')).to.equal(expected.processed);
        // usec and usec_per_call as Redis prints them.
        expect(fields.get('cmdstat_get')).to.match(/^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=2,failed_calls=0$/);
      } finally {
        await respql.stop();
      }
    });
  }

  it('INFO ALL includes commandstats, INFO (default) does not; CONFIG RESETSTAT clears it', async () => {
    const respql = await startRespql('sqlite');
    try {
      await runScript(respql.port);
      expect([...(await info(respql.port)).keys()].some((k) => k.startsWith('cmdstat_'))).to.equal(false);
      expect((await info(respql.port, 'all')).get('cmdstat_set')).to.match(/^calls=3,/);
      const client = await RawClient.connect(respql.port);
      expect(await client.send('CONFIG', 'RESETSTAT')).to.deep.equal(Buffer.from('OK'));
      await client.close();
      expect(commandCounts(await info(respql.port, 'commandstats'))).to.deep.equal({
        'config|resetstat': 'calls=1,rejected_calls=0,failed_calls=0',
      });
    } finally {
      await respql.stop();
    }
  });
});

describe('INFO stats: instantaneous_ops_per_sec', function () {
  this.timeout(30_000);
  it('is above zero while commands flow (a moving average over the last 1.6 s, as Redis)', async () => {
    const respql = await startRespql('sqlite');
    const client = await RawClient.connect(respql.port);
    let flowing = true;
    const traffic = (async () => {
      while (flowing) await client.send('PING');
    })();
    try {
      await until(
        'instantaneous_ops_per_sec > 0',
        async () => Number((await info(respql.port, 'stats')).get('instantaneous_ops_per_sec')) > 0,
      );
      const kbps = Number((await info(respql.port, 'stats')).get('instantaneous_input_kbps'));
      expect(kbps).to.be.greaterThan(0);
    } finally {
      flowing = false;
      await traffic;
      await client.close();
      await respql.stop();
    }
  });
});

describe('redis-cli --stat reads respql', function () {
  this.timeout(30_000);
  it('prints keys, clients, requests and connections from INFO', async () => {
    const respql = await startRespql('sqlite');
    try {
      const client = await RawClient.connect(respql.port);
      for (let i = 0; i < 5; i++) await client.send('SET', `k${i}`, 'v');
      // stdbuf: redis-cli's stdout is a pipe here, which stdio would buffer by 4 KiB.
      const stat = spawn('stdbuf', ['-oL', 'redis-cli', '-p', String(respql.port), '--stat', '-i', '0.1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      stat.stdout.on('data', (d) => (out += d));
      try {
        // The header, then a line per interval: keys mem clients blocked requests connections.
        await until('two lines of redis-cli --stat', () => Promise.resolve(out.split('\n').filter((l) => /^\d/.test(l)).length >= 2));
      } finally {
        stat.kill();
      }
      await client.close();
      expect(out).to.match(/keys\s+mem\s+clients\s+blocked\s+requests\s+connections/);
      const first = out
        .split('\n')
        .find((l) => /^\d/.test(l))!
        .trim()
        .split(/\s+/);
      expect(first[0]).to.equal('5'); // keys
      expect(first[2]).to.equal('2'); // clients: ours and redis-cli
      expect(Number(first[4])).to.be.at.least(5); // requests (total_commands_processed)
    } finally {
      await respql.stop();
    }
  });
});

for (const backend of BACKENDS) {
  describe(`Prometheus endpoint (${backend})`, function () {
    this.timeout(30_000);

    it('is off unless a metrics port is given', async () => {
      const respql = await startRespql(backend);
      try {
        expect(respql.server.metricsAddress()).to.equal(null);
      } finally {
        await respql.stop();
      }
    });

    it('exports commands, latency, connections, SQL statements, commit batches and sweeps: the figures INFO shows', async () => {
      const respql = await startRespql(backend, { metricsPort: 0 });
      try {
        const before = await scrape(respql);
        expect(before).to.include('# TYPE respql_commands_total counter');
        expect(before).to.include('# TYPE respql_command_duration_seconds histogram');
        expect(before).to.include('process_cpu_seconds_total');
        expect(sample(before, `respql_build_info{version="${VERSION}",backend="${backend}"}`)).to.equal(1);
        const statementsBefore = sample(before, 'respql_db_statements_total');

        const client = await RawClient.connect(respql.port);
        for (let i = 0; i < 3; i++) await client.send('SET', `k${i}`, 'v', 'PX', '1');
        await client.send('GET', 'k0');
        await client.send('GET');
        await client.send('INCRBYFLOAT', 'k1', 'x');
        // 50 pipelined writes in one socket write join one group commit.
        client.sendRaw(Array.from({ length: 50 }, (_, i) => `SET p${i} v\r\n`).join(''));
        for (let i = 0; i < 50; i++) await client.readReply();
        await new Promise((r) => setTimeout(r, 20)); // the keys with PX 1 expire
        await respql.server.sweep();

        const body = await scrape(respql);
        const statementsAtScrape = respql.server.engine.stats.statements;
        const fields = await info(respql.port, 'all');
        expect(sample(body, 'respql_commands_total{command="set"}')).to.equal(53);
        expect(sample(body, 'respql_commands_total{command="get"}')).to.equal(1);
        expect(sample(body, 'respql_commands_rejected_total{command="get"}')).to.equal(1);
        expect(sample(body, 'respql_commands_failed_total{command="incrbyfloat"}')).to.equal(1);
        expect(sample(body, 'respql_command_duration_seconds_count{command="set"}')).to.equal(53);
        expect(sample(body, 'respql_command_duration_seconds_sum{command="set"}')).to.be.greaterThan(0);
        expect(sample(body, 'respql_command_duration_seconds_bucket{le="+Inf",command="set"}')).to.equal(53);
        const buckets = body
          .split('\n')
          .filter((l) => l.startsWith('respql_command_duration_seconds_bucket{') && l.includes('command="set"'));
        const counts = buckets.map((l) => Number(l.split(' ')[1]));
        expect(counts).to.have.length(16);
        expect(counts).to.deep.equal([...counts].sort((a, b) => a - b)); // cumulative
        // The counters are INFO's figures.
        const setStat = Object.fromEntries(
          fields
            .get('cmdstat_set')!
            .split(',')
            .map((p) => p.split('=')),
        );
        expect(Number(setStat.calls)).to.equal(53);
        expect(sample(body, 'respql_connected_clients')).to.equal(Number(fields.get('connected_clients')) - 1);
        expect(sample(body, 'respql_connected_clients')).to.equal(1);
        expect(sample(body, 'respql_connections_received_total')).to.equal(Number(fields.get('total_connections_received')) - 1);
        expect(sample(body, 'respql_commands_processed_total')).to.equal(Number(fields.get('total_commands_processed')));
        // The commands above that reached the database ran SQL.
        const statements = sample(body, 'respql_db_statements_total');
        expect(statements).to.be.greaterThan(statementsBefore);
        expect(statements).to.equal(statementsAtScrape);
        expect(Number(fields.get('sql_statements'))).to.be.greaterThan(statements); // INFO's own transaction came after
        expect(sample(body, 'respql_db_errors_total')).to.equal(0);
        // The pipelined writes committed together: some batch had more than one command.
        const batches = sample(body, 'respql_commit_batch_size_count');
        expect(sample(body, 'respql_commit_batch_size_bucket{le="1"}')).to.be.lessThan(batches);
        expect(sample(body, 'respql_commit_batch_size_sum')).to.be.at.least(50);
        expect(sample(body, 'respql_db_transactions_total')).to.be.at.least(batches);
        // The sweeper deleted the three expired keys in one run.
        expect(sample(body, 'respql_sweeper_runs_total')).to.equal(1);
        expect(sample(body, 'respql_sweeper_deleted_keys_total')).to.equal(3);
        expect(fields.get('expired_keys')).to.equal('3');
        expect(fields.get('sweeper_runs')).to.equal('1');
        await client.close();
      } finally {
        await respql.stop();
      }
    });

    it('counts failed SQL statements (the table dropped under a running server)', async () => {
      const respql = await startRespql(backend, { metricsPort: 0 });
      try {
        const client = await RawClient.connect(respql.port);
        expect(await client.send('SET', 'k', 'v')).to.deep.equal(Buffer.from('OK'));
        const { table, knex } = respql.server.engine;
        // On MariaDB the field tables' foreign keys refer to it: they go first.
        if (backend === 'mariadb') for (const t of Object.values(typedTables(table))) await knex.schema.dropTable(t);
        await knex.schema.dropTable(table);
        const reply = await client.send('GET', 'k');
        expect(isErrorReply(reply), String(reply)).to.equal(true);
        const body = await scrape(respql);
        expect(sample(body, 'respql_db_errors_total')).to.equal(1);
        expect(sample(body, 'respql_commands_failed_total{command="get"}')).to.equal(1);
        expect((await info(respql.port, 'respql')).get('sql_statement_errors')).to.equal('1');
        await client.close();
      } finally {
        await respql.stop();
      }
    });
  });
}

describe('Prometheus endpoint over HTTP', function () {
  this.timeout(30_000);
  it('answers 404 off /metrics, and closes with the server even with a keep-alive scraper', async () => {
    const respql = await startRespql('sqlite', { metricsPort: 0 });
    const { port } = respql.server.metricsAddress()!;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).to.equal(404);
    expect(await res.text()).to.include('/metrics');
    await respql.stop();
    let refused = false;
    await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});

describe('--metrics-port and --metrics-bind', function () {
  this.timeout(30_000);
  const CLI = path.resolve(__dirname, '../../src/cli.js');

  it('a bad value is one line naming the setting (flag or environment variable)', () => {
    expect(() => parseCommandLine(['--metrics-port', 'x'], {})).to.throw(ConfigError, /--metrics-port 'x'/);
    expect(() => parseCommandLine([], { RESPQL_METRICS_PORT: '70000' })).to.throw(ConfigError, /RESPQL_METRICS_PORT/);
    expect(() => parseCommandLine(['--metrics-bind', ' '], {})).to.throw(ConfigError, /--metrics-bind/);
    expect(() => parseCommandLine(['ping', '--metrics-port', '9'], {})).to.throw(ConfigError, /--metrics-port does not apply/);
    const parsed = parseCommandLine(['--bind', '0.0.0.0', '--metrics-port', '9187'], { RESPQL_METRICS_BIND: '127.0.0.1' });
    expect(parsed.options).to.include({ metricsPort: 9187, metricsHost: '127.0.0.1', host: '0.0.0.0' });
  });

  it('the CLI logs the endpoint and serves it', async () => {
    const tmp = tempDir('respql-metrics-cli-');
    const port = await freePort();
    const metricsPort = await freePort();
    const server = await startProcess(
      process.execPath,
      [CLI, '--port', String(port), '--database-url', path.join(tmp.dir, 'm.sqlite'), '--log-format', 'json'],
      /Prometheus metrics on/,
      { env: { RESPQL_METRICS_PORT: String(metricsPort) } },
    );
    try {
      const line = logLines(server.output()).find((l) => typeof l.metrics === 'string')!;
      expect(line.metrics).to.equal(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(await (await fetch(line.metrics as string)).text()).to.include('respql_connected_clients 0');
      const ping = await cli(['ping', '--port', String(port)], { cliPath: CLI });
      expect(ping.stdout).to.equal('PONG\n');
    } finally {
      expect(await server.stop()).to.equal(0);
      tmp.remove();
    }
  });
});
