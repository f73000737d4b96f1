/**
 * `npm run bench` (scripts/bench.ts) in miniature: the same script with few requests and one
 * repetition, so that the benchmark behind BENCHMARKS.md keeps working from a clean clone.
 * The figures themselves are not judged here (a test is no place for timing); what is checked
 * is that every target was measured and the report says how.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, run, tempDir } from './helpers';

const BENCH = path.join(ROOT, 'dist', 'scripts', 'bench.js');

/** The ops/s cell of a results row, as a number (null if the row is absent). */
function opsPerSecond(report: string, target: string, test: string, pipeline: string): number | null {
  const row = report.split('\n').find((line) => line.startsWith(`| ${target} | ${test} | ${pipeline} |`));
  return row ? Number(row.split('|')[4].replace(/,/g, '').trim()) : null;
}

describe('npm run bench (scripts/bench.ts), in miniature', function () {
  this.timeout(150_000);

  it('measures every target, writes the tables and commands, and keeps the blocks it did not measure', async () => {
    const tmp = tempDir('respql-bench-test-');
    try {
      const out = path.join(tmp.dir, 'BENCHMARKS.md');
      writeFileSync(out, '# Benchmarks\n\n<!-- block:profile-notes -->\nNotes written by hand.\n<!-- /block:profile-notes -->\n');
      const args = [
        '--requests',
        '2000',
        '--requests-pipelined',
        '4000',
        '--reps',
        '1',
        '--pgbench-seconds',
        '3',
        '--session-seconds',
        '1',
        '--out',
        out,
      ];
      const result = await run(process.execPath, [BENCH, ...args, '--postgres-setting', 'shared_buffers=64MB'], { timeoutMs: 140_000 });
      expect(result.code, result.stderr).to.equal(0);
      const report = readFileSync(out, 'utf8');

      const targets = ['respql, SQLite', 'respql, PostgreSQL', 'respql, MariaDB', 'redis, appendfsync always', 'redis, no persistence'];
      for (const target of targets) {
        for (const test of ['SET', 'GET']) {
          for (const pipeline of ['-P 1', '-P 16']) {
            expect(opsPerSecond(report, target, test, pipeline), `${target} ${test} ${pipeline}`).to.be.greaterThan(0);
          }
        }
      }
      for (const target of targets) {
        expect(
          opsPerSecond(report, target, 'session traffic (GET, then EXPIRE or SET EX)', '-P 1'),
          `${target} session traffic`,
        ).to.be.greaterThan(0);
        expect(
          opsPerSecond(report, target, 'hash session traffic (HGETALL, then HSET of 2 fields and EXPIRE)', '-P 1'),
          `${target} hash session traffic`,
        ).to.be.greaterThan(0);
        expect(
          opsPerSecond(report, target, 'lock traffic (SET NX PX, then EVALSHA of the release script)', '-P 1'),
          `${target} lock traffic`,
        ).to.be.greaterThan(0);
      }
      expect(opsPerSecond(report, 'pgbench, same PostgreSQL', 'upsert', '–')).to.be.greaterThan(0);
      expect(opsPerSecond(report, 'pgbench, same PostgreSQL', 'select', '–')).to.be.greaterThan(0);
      expect(opsPerSecond(report, 'one-statement client, same MariaDB', 'upsert', '–')).to.be.greaterThan(0);
      expect(opsPerSecond(report, 'one-statement client, same MariaDB', 'select', '–')).to.be.greaterThan(0);

      const ratios = report.split('\n').filter((line) => / \/ .* \| [\d.]+ % \|$/.test(line));
      expect(ratios).to.have.length(19);

      // How to repeat it: the servers' command lines, the extra setting among them, and the versions.
      expect(report).to.match(/pg_ctl .*-c synchronous_commit=on .*-c shared_buffers=64MB/);
      expect(report).to.include('`fsync=on`, `synchronous_commit=on`, `shared_buffers=64MB`');
      expect(report).to.match(/redis-server .*--appendfsync always/);
      expect(report).to.match(/pgbench .*-M prepared -c 50/);
      expect(report).to.match(/- respql \d+\.\d+\.\d+ \(git [0-9a-f]{7}/);
      expect(report).to.include('Notes written by hand.');
    } finally {
      tmp.remove();
    }
  });

  it('--lock-only: the lock-traffic test alone on every target, with INFO counts per script; writes no report', async () => {
    const tmp = tempDir('respql-bench-test-');
    try {
      const out = path.join(tmp.dir, 'BENCHMARKS.md');
      writeFileSync(out, '# untouched\n');
      const args = ['--lock-only', '--reps', '1', '--session-seconds', '1', '--out', out];
      const result = await run(process.execPath, [BENCH, ...args, '--postgres-setting', 'shared_buffers=64MB'], { timeoutMs: 60_000 });
      expect(result.code, result.stderr).to.equal(0);
      for (const target of ['respql, SQLite', 'respql, PostgreSQL', 'redis, appendfsync always', 'redis, no persistence'])
        expect(
          opsPerSecond(result.stdout, target, 'lock traffic (SET NX PX, then EVALSHA of the release script)', '-P 1'),
          target,
        ).to.be.greaterThan(0);
      for (const backend of ['SQLite', 'PostgreSQL'])
        expect(result.stdout).to.match(
          new RegExp(`^- respql, ${backend}, rep 1: \\d+ EVALSHA; per EVALSHA: [\\d.]+ transactions, [\\d.]+ statements`, 'm'),
        );
      expect(readFileSync(out, 'utf8')).to.equal('# untouched\n');
    } finally {
      tmp.remove();
    }
  });

  it('refuses a malformed PostgreSQL setting in one line, before starting anything', async () => {
    const result = await run(process.execPath, [BENCH, '--postgres-setting', 'fsync=off; DROP'], { timeoutMs: 10_000 });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal(
      "bench: --postgres-setting takes name=value settings (letters, digits, _ and .), got 'fsync=off; DROP'\n",
    );
  });
});
