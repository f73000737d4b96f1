/**
 * The MariaDB rows' reference, as pgbench is PostgreSQL's: the same upsert and select sent
 * straight to the same MariaDB and respql's own table, one statement per transaction
 * (autocommit), each a prepared statement, from CLIENTS connections for a fixed time. It runs
 * as a process of its own (`node mariadb-client.js URL SET|GET SECONDS`) and prints
 * {rps, p50, p99} as JSON.
 */
import { performance } from 'node:perf_hooks';
import { createConnection } from 'mysql2/promise';
import { CLIENTS, KEYSPACE, VALUE_SIZE } from './options';

const key = () => `key:${String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0')}`;

/** The statements, as respql's own (the expiry an hour ahead; a GET filters out expired rows). */
export const MARIADB_CLIENT_STATEMENTS = {
  SET:
    'INSERT INTO sessions (token, data, expiry) VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR) ' +
    'ON DUPLICATE KEY UPDATE data = VALUES(data), expiry = VALUES(expiry)',
  GET: 'SELECT data FROM sessions WHERE token = ? AND (expiry IS NULL OR expiry > UTC_TIMESTAMP(3))',
} as const;

async function main(url: string, test: 'SET' | 'GET', seconds: number): Promise<void> {
  const value = Buffer.alloc(VALUE_SIZE, 'x');
  const connections = await Promise.all(Array.from({ length: CLIENTS }, () => createConnection({ uri: url })));
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    connections.map(async (c) => {
      while (performance.now() < end) {
        const started = performance.now();
        await c.execute(MARIADB_CLIENT_STATEMENTS[test], test === 'SET' ? [key(), value] : [key()]);
        latencies.push(performance.now() - started);
      }
    }),
  );
  await Promise.all(connections.map((c) => c.end()));
  if (!latencies.length) throw new Error(`no statement completed in ${seconds} s`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  process.stdout.write(JSON.stringify({ rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99) }) + '\n');
}

if (require.main === module) {
  const [url, test, seconds] = process.argv.slice(2);
  main(url, test as 'SET' | 'GET', Number(seconds)).catch((err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
