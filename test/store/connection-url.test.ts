/**
 * What a postgres:// URL's parameters do: application_name names respql's sessions on the
 * server (default 'respql'), whichever way respql reaches it.
 */
import { expect } from 'chai';
import { Client } from 'pg';
import { freshDatabase } from '../support/postgres';
import { RawClient } from '../support/resp-client';
import { startRespql } from '../support/respql';

async function applicationNames(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return (rows as { application_name: string }[]).map((r) => r.application_name);
  } finally {
    await client.end();
  }
}

describe('postgres:// URL parameters', function () {
  this.timeout(30_000);

  for (const [query, expected] of [
    ['', 'respql'],
    ['?application_name=shop-sessions', 'shop-sessions'],
  ]) {
    it(`names respql's sessions ${expected} (${query || 'no parameter'})`, async function () {
      const db = await freshDatabase();
      const respql = await startRespql('postgres', { databaseUrl: db + query });
      try {
        const client = await RawClient.connect(respql.port);
        await client.send('SET', 'k', 'v');
        await client.close();
        expect(await applicationNames(db)).to.include(expected);
      } finally {
        await respql.stop();
      }
    });
  }
});
