/** --lock-only: the lock-traffic test alone, with what respql's INFO counted per script. */
import path from 'node:path';
import { type Options } from './options';
import { progress } from './processes';
import { ratiosTable, resultsTable } from './report';
import { type Sample, fmtRate, rotate, summarize } from './results';
import { NAMES, type Target, info, startPostgres, startRedis, startRespql } from './targets';
import { LOCK_LABEL, lockTraffic } from './lock-traffic';

/**
 * --lock-only: the lock-traffic test alone on every target (no pre-fill: its keys are its own),
 * the order rotating on each repetition, with what respql's INFO counted during each run:
 * transactions, statements and WAL flushes per EVALSHA. Prints; writes nothing.
 */
export async function lockOnly(options: Options, tmp: string): Promise<string> {
  const pg = await startPostgres(tmp, options.postgresSettings);
  const targets: Target[] = [
    await startRespql(options, tmp, NAMES.sqlite, path.join(tmp, 'respql.sqlite')),
    await startRespql(options, tmp, NAMES.postgres, pg.url),
    await startRedis(tmp, NAMES.redisAof, ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']),
    await startRedis(tmp, NAMES.redisNone, ['--appendonly', 'no', '--save', '']),
  ];
  const samples: Sample[] = [];
  const counts: string[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    for (const target of rotate(targets, rep)) {
      const respql = target.name === NAMES.sqlite || target.name === NAMES.postgres;
      const before = respql ? await sqlCounts(target) : null;
      progress(`rep ${rep + 1}/${options.reps}: ${target.name}, lock traffic for ${options.sessionSeconds} s`);
      const s = await lockTraffic(target, options.sessionSeconds);
      progress(`  ${fmtRate(s.rps)} ops/s, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
      samples.push(s);
      if (before) {
        const after = await sqlCounts(target);
        const scripts = after.scripts - before.scripts;
        const per = (k: keyof typeof after) => ((after[k] - before[k]) / scripts).toFixed(3);
        const line = `${target.name}, rep ${rep + 1}: ${scripts} EVALSHA; per EVALSHA: ${per('transactions')} transactions, ${per('statements')} statements, ${per('flushes')} WAL flushes`;
        progress(`  ${line}`);
        counts.push(`- ${line}`);
      }
    }
  }
  const rows = summarize(samples);
  const ratios = ratiosTable(rows)
    .split('\n')
    .filter((l, i) => i < 2 || l.includes(LOCK_LABEL));
  return `${resultsTable(rows)}\n\n${ratios.join('\n')}\n\n${counts.join('\n')}`;
}

/** respql's INFO counters that say how lock traffic used the database. */
async function sqlCounts(target: Target): Promise<{ scripts: number; transactions: number; statements: number; flushes: number }> {
  const sql = await info(target.port, 'respql');
  const stats = await info(target.port, 'commandstats');
  return {
    scripts: Number(/calls=(\d+)/.exec(stats.cmdstat_evalsha ?? '')?.[1] ?? 0),
    transactions: Number(sql.sql_transactions),
    statements: Number(sql.sql_statements),
    flushes: Number(sql.sql_wal_flushes),
  };
}
