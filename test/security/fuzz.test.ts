/**
 * Protocol fuzzing against the real respql process (the built CLI, SQLite): over 100,000
 * random and mutated frames on many concurrent connections (valid commands with random
 * arguments, flipped bytes, truncated frames, random type bytes, huge/negative/non-numeric
 * lengths, nested and RESP3-typed requests, inline garbage, HTTP requests, random bytes),
 * while a few well-formed clients interleave SET/GET/INCR and must always get the right
 * replies. The server must not crash, must still answer afterwards, must exit 0 on SIGTERM,
 * and its RSS (VmRSS) must stay bounded. The figures are printed.
 *
 * Reproduce a run with RESPQL_FUZZ_SEED=<seed printed in the figures>.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodeCommand, isErrorReply, RawClient, type Reply } from '../support/resp-client';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { prng } from '../support/prng';

const TARGET_FRAMES = 110_000;
const FUZZ_CONNECTIONS = 40;
const WELL_FORMED_CLIENTS = 4;
/** Stop fuzzing after this long even if the target is not reached (the test then fails). */
const TIME_BUDGET_MS = 50_000;
/** A generous ceiling: the server holds no per-frame state, so RSS must not track the traffic. */
const RSS_LIMIT_MB = 400;

class Fuzzer {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.r() * items.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.r() * 256);
    return b;
  }
  printable(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(0x20, 0x7e));
    return s;
  }
  /** Fuzz keys only: the well-formed clients use `wf:` keys that no generator produces. */
  key(): string | Buffer {
    if (this.chance(0.05))
      return this.pick(['fz:ü€😀', 'fz:\0nul', Buffer.from([0x66, 0x7a, 0x3a, 0xff, 0xfe]), "fz:'; DROP TABLE sessions; --", 'fz:%_\\']);
    return `fz:${this.int(0, 999)}`;
  }
  value(): string | Buffer {
    if (this.chance(0.02)) return this.bytes(this.int(1000, 8000));
    return this.chance(0.5) ? this.bytes(this.int(0, 40)) : this.printable(this.int(0, 40));
  }
  num(): string {
    return this.pick([
      '0',
      '1',
      '-1',
      '10',
      '100000',
      '-9223372036854775808',
      '9223372036854775807',
      '99999999999999999999',
      '1.5',
      'x',
      '',
      ' 1',
    ]);
  }

  /** A well-formed request with random arguments (the server answers it, often with an error). */
  command(): (string | Buffer)[] {
    const k = () => this.key();
    const v = () => this.value();
    const gens: (() => (string | Buffer)[])[] = [
      () => ['PING'],
      () => ['PING', v()],
      () => ['ECHO', v()],
      () => ['SET', k(), v()],
      () => ['SET', k(), v(), this.pick(['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'GET', 'KEEPTTL', 'FOO']), this.num()],
      () => ['GET', k()],
      () => ['GET', k()],
      () => ['MGET', k(), k(), k()],
      () => ['MSET', k(), v(), k(), v()],
      () => ['DEL', k(), k()],
      () => ['EXISTS', k(), k()],
      () => ['INCR', k()],
      () => ['INCRBY', k(), this.num()],
      () => ['INCRBYFLOAT', k(), this.pick(['1.5', 'nan', 'inf', '1e308', '-0', '0x10', '3'])],
      () => ['APPEND', k(), v()],
      () => ['STRLEN', k()],
      () => ['GETRANGE', k(), this.num(), this.num()],
      () => ['SETRANGE', k(), this.pick(['0', '5', '-1', '100', '536870912']), v()],
      () => ['EXPIRE', k(), this.num(), ...(this.chance(0.3) ? [this.pick(['NX', 'XX', 'GT', 'LT', 'ZZ'])] : [])],
      () => ['PEXPIREAT', k(), this.num()],
      () => ['TTL', k()],
      () => ['PERSIST', k()],
      () => ['TYPE', k()],
      () => ['RENAME', k(), k()],
      () => ['COPY', k(), k(), ...(this.chance(0.5) ? ['REPLACE'] : [])],
      () => ['GETDEL', k()],
      () => ['GETEX', k(), this.pick(['PERSIST', 'EX', 'PX'])],
      () => [
        'SCAN',
        this.pick(['0', '1', '-1', 'x', '18446744073709551616']),
        'MATCH',
        this.pick(['fz:1*', '*', 'fz:[0-3]?', '[', '\\', 'fz:%']),
        'COUNT',
        this.pick(['10', '0', '-1', '1000']),
      ],
      () => ['KEYS', this.pick(['fz:1*', 'fz:99?', 'fz:[^0-8]*', 'fz:\\*', 'nomatch*'])],
      () => ['DBSIZE'],
      () => ['TIME'],
      () => ['INFO', this.pick(['server', 'keyspace', 'stats', 'everything', 'nonsense'])],
      () => ['HELLO', this.pick(['2', '3', '4', 'x', '-1'])],
      () => ['CLIENT', this.pick(['SETNAME', 'GETNAME', 'ID', 'INFO', 'LIST', 'NOPE']), this.printable(this.int(0, 10))],
      () => ['CLIENT', 'REPLY', this.pick(['ON', 'SKIP'])],
      () => ['COMMAND', this.pick(['COUNT', 'INFO', 'DOCS', 'GETKEYS'])],
      () => ['CONFIG', 'GET', this.pick(['*', 'port', 'requirepass', 'maxclients'])],
      () => ['SELECT', this.num()],
      () => ['MULTI'],
      () => ['EXEC'],
      () => ['DISCARD'],
      () => ['WATCH', k()],
      () => ['UNWATCH'],
      () => ['AUTH', this.printable(8)],
      () => [this.printable(this.int(1, 12)), v()],
      () => ['GET'],
      () => ['SET', k()],
      () => Array.from({ length: this.int(1, 30) }, () => v()),
    ];
    return this.pick(gens)();
  }

  /** A frame that breaks the protocol in one of the ways Redis guards against (or happens not to). */
  mutated(): Buffer {
    const valid = encodeCommand(this.command());
    switch (this.int(0, 11)) {
      case 0: {
        const b = Buffer.from(valid);
        for (let i = this.int(1, 3); i > 0; i--) b[this.int(0, b.length - 1)] ^= this.int(1, 255);
        return b;
      }
      case 1:
        return valid.subarray(0, this.int(1, Math.max(1, valid.length - 1)));
      case 2:
        return Buffer.concat([Buffer.from([this.int(0, 255)]), valid.subarray(1)]);
      case 3: {
        const len = this.pick([
          '-1',
          '-2',
          '-100',
          '0',
          '536870911',
          '536870913',
          '2147483648',
          '9999999999999999999999',
          '',
          'abc',
          '+5',
          '05',
          ' 5',
          '5 ',
        ]);
        const text = valid.toString('latin1');
        return Buffer.from(this.chance(0.5) ? text.replace(/^\*\d+/, `*${len}`) : text.replace(/\$\d+/, `$${len}`), 'latin1');
      }
      case 4:
        return Buffer.from(
          `*2\r\n${this.pick(['*1\r\n$4\r\nPING\r\n', '*0\r\n', ':1\r\n', '+OK\r\n', '%1\r\n$1\r\na\r\n$1\r\nb\r\n'])}$4\r\nPING\r\n`,
        );
      case 5:
        return Buffer.from(
          this.pick([
            '%1\r\n',
            '~2\r\n',
            '>1\r\n',
            '_\r\n',
            '#t\r\n',
            ',1.5\r\n',
            '(123\r\n',
            '=5\r\ntxt:x\r\n',
            '|1\r\n',
            ':1\r\n',
            '+PING\r\n',
            '-ERR\r\n',
          ]),
        );
      case 6: {
        const quote = this.pick(['"', "'", '']);
        return Buffer.from(`${this.printable(this.int(0, 60))}${quote}${this.pick(['\\x4', '\\', '"a"b', "'x'y", ''])}\r\n`);
      }
      case 7:
        return Buffer.from(
          this.pick([
            'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fuzz\r\n\r\n',
            'POST /api HTTP/1.1\r\nContent-Length: 4\r\n\r\nPING',
            'OPTIONS * HTTP/1.0\r\n\r\n',
            'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
          ]),
        );
      case 8:
        return this.bytes(this.int(1, 300));
      case 9:
        // A line longer than Redis's inline limit (64 KB), without a newline.
        return this.chance(0.1) ? Buffer.alloc(70_000, 0x41) : Buffer.from(`*${this.int(1, 3)}\r\n$${this.int(1, 5)}\r\n`);
      case 10:
        return Buffer.from(`*${this.int(2, 5)}\r\n$3\r\nSET\r\n$${this.int(1, 8)}\r\nfz:x\r\n`);
      default:
        return Buffer.concat([Buffer.from('\r\n\n\r'), valid]);
    }
  }
}

interface Figures {
  framesSent: number;
  mutatedFrames: number;
  bytesSent: number;
  connections: number;
  closedByServer: number;
  protocolErrors: number;
  errorReplies: number;
  wellFormedOps: number;
  peakRssMb: number;
  baselineRssMb: number;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** One fuzz connection: writes its frames in random pieces, reads until the sentinel, a close, or silence. */
function fuzzConnection(port: number, f: Fuzzer, figures: Figures): Promise<void> {
  const frames: Buffer[] = [];
  for (let i = f.int(1, 150); i > 0; i--) {
    const bad = f.chance(0.15);
    frames.push(bad ? f.mutated() : encodeCommand(f.command()));
    figures.framesSent++;
    if (bad) figures.mutatedFrames++;
  }
  const token = `sentinel-${f.int(0, 1e9)}`;
  frames.push(encodeCommand(['DISCARD']), encodeCommand(['CLIENT', 'REPLY', 'ON']), encodeCommand(['ECHO', token]));
  const payload = Buffer.concat(frames);
  figures.bytesSent += payload.length;
  figures.connections++;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let idle: NodeJS.Timeout;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      figures.protocolErrors += (received.match(/-ERR Protocol error/g) ?? []).length;
      figures.errorReplies += (received.match(/(^|\r\n)-[A-Z]+ /g) ?? []).length;
      socket.destroy();
      resolve();
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(finish, 1500);
    };
    const pump = async () => {
      // Random piece sizes exercise partial frames on the server side.
      for (let at = 0; at < payload.length && !socket.destroyed;) {
        const n = f.int(1, 8192);
        const ok = socket.write(payload.subarray(at, at + n));
        at += n;
        if (!ok) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    };
    socket.on('connect', () => {
      arm();
      pump().catch(finish);
    });
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (received.length > 1_000_000) received = received.slice(-100_000);
      if (received.includes(token)) finish();
      else arm();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!done) figures.closedByServer++;
      finish();
    });
  });
}

/** A client that must always get the right answer: SET/GET/INCR pipelined, with values it checks. */
async function wellFormedClient(port: number, id: number, f: Fuzzer, stop: () => boolean, figures: Figures): Promise<void> {
  const client = await RawClient.connect(port, '127.0.0.1', 20_000);
  const expectReply = (reply: Reply, expected: string | number, what: string) => {
    const got = Buffer.isBuffer(reply) ? reply.toString('latin1') : isErrorReply(reply) ? `error ${reply.error}` : reply;
    if (got !== expected)
      throw new Error(`well-formed client ${id}: ${what} replied ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  };
  try {
    let counter = 0;
    for (let i = 0; !stop(); i++) {
      const key = `wf:${id}:${i % 64}`;
      const value = f.value();
      const valueText = Buffer.isBuffer(value) ? value.toString('latin1') : Buffer.from(value).toString('latin1');
      client.sendRaw(
        Buffer.concat([
          encodeCommand(['SET', key, value]),
          encodeCommand(['GET', key]),
          encodeCommand(['INCR', `wf:${id}:counter`]),
          encodeCommand(['ECHO', `wf-${id}-${i}`]),
        ]),
      );
      expectReply(await client.readReply(), 'OK', `SET ${key}`);
      expectReply(await client.readReply(), valueText, `GET ${key}`);
      expectReply(await client.readReply(), ++counter, 'INCR');
      expectReply(await client.readReply(), `wf-${id}-${i}`, 'ECHO');
      figures.wellFormedOps += 4;
    }
    const final = await client.send('GET', `wf:${id}:counter`);
    expectReply(final, String(counter), 'final GET counter');
  } finally {
    await client.close();
  }
}

describe('fuzz: random and mutated frames against the respql process', function () {
  this.timeout(120_000);
  let dir: string;
  let respql: RespqlProcess | undefined;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'respql-fuzz-'));
    respql = await spawnRespql(['--database-url', path.join(dir, 'fuzz.sqlite'), '--cleanup-interval', '0'], {
      RESPQL_REQUIREPASS: '',
      RESPQL_USERS: '',
    });
  });
  after(async () => {
    if (respql && respql.proc.exitCode === null) await respql.kill9();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${TARGET_FRAMES} frames on ${FUZZ_CONNECTIONS} concurrent connections; well-formed clients stay correct; RSS bounded`, async () => {
    const seed = Number(process.env.RESPQL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const pid = respql!.proc.pid!;
    const port = respql!.port;
    const figures: Figures = {
      framesSent: 0,
      mutatedFrames: 0,
      bytesSent: 0,
      connections: 0,
      closedByServer: 0,
      protocolErrors: 0,
      errorReplies: 0,
      wellFormedOps: 0,
      peakRssMb: 0,
      baselineRssMb: rssMb(pid),
    };
    const sampler = setInterval(() => {
      figures.peakRssMb = Math.max(figures.peakRssMb, rssMb(pid));
    }, 100);
    const started = Date.now();
    const over = () => figures.framesSent >= TARGET_FRAMES || Date.now() - started > TIME_BUDGET_MS;
    let fuzzDone = false;
    try {
      const fuzzers = Array.from({ length: FUZZ_CONNECTIONS }, async (_, i) => {
        const f = new Fuzzer(seed + i);
        while (!over()) await fuzzConnection(port, f, figures);
      });
      const wellFormed = Array.from({ length: WELL_FORMED_CLIENTS }, (_, i) =>
        wellFormedClient(port, i, new Fuzzer(seed + 1000 + i), () => fuzzDone, figures),
      );
      await Promise.all(fuzzers);
      fuzzDone = true;
      await Promise.all(wellFormed);
    } finally {
      fuzzDone = true;
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    figures.peakRssMb = Math.max(figures.peakRssMb, rssMb(pid));
    console.log(
      `      fuzz figures: seed ${seed}, ${figures.framesSent} frames (${figures.mutatedFrames} mutated, ` +
        `${(figures.bytesSent / 1e6).toFixed(1)} MB) on ${figures.connections} connections (${FUZZ_CONNECTIONS} at a time) in ${seconds.toFixed(1)} s; ` +
        `${figures.protocolErrors} protocol errors and ${figures.errorReplies} error replies seen; ` +
        `${figures.wellFormedOps} well-formed commands, all correct; RSS ${figures.baselineRssMb.toFixed(0)} MB at start, peak ${figures.peakRssMb.toFixed(0)} MB`,
    );

    expect(figures.framesSent, 'frames sent within the time budget').to.be.at.least(100_000);
    expect(figures.wellFormedOps).to.be.greaterThan(0);
    expect(respql!.proc.exitCode, respql!.output()).to.equal(null);
    expect(figures.peakRssMb).to.be.below(RSS_LIMIT_MB);
    // Still serving, and a clean shutdown.
    const client = await RawClient.connect(port);
    expect(await client.send('PING')).to.deep.equal(Buffer.from('PONG'));
    await client.close();
    expect(await respql!.stop(), respql!.output()).to.equal(0);
  });
});
