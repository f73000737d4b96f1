#!/usr/bin/env node
import { ConfigError, helpText, parseCommandLine } from './config';
import { createServer } from './server/server';
import { VERSION } from './version';

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`respql: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (parsed.action === 'help') return void process.stdout.write(helpText() + '\n');
  if (parsed.action === 'version') return void process.stdout.write(`respql ${VERSION}\n`);

  const server = createServer({
    ...parsed.options,
    onError: (err) => process.stderr.write(`respql: sweeper: ${(err as Error).message}\n`),
  });
  try {
    const address = await server.listen();
    const c = server.config;
    const durability = server.engine.dialect.name === 'sqlite' ? 'WAL, synchronous=FULL' : 'synchronous_commit=on';
    process.stdout.write(
      `respql ${VERSION} ready on ${address.address}:${address.port}\n` +
        `  backend: ${server.engine.dialect.name} ${redact(c.databaseUrl)}${server.engine.dialect.name === 'sqlite' ? ` (${require('node:path').resolve(c.databaseUrl)})` : ''}\n` +
        `  table: ${c.table}, cleanup interval: ${c.cleanupIntervalMs} ms, durability: ${durability}, auth: ${c.requirepass ? 'required' : 'off'}\n`,
    );
  } catch (err) {
    process.stderr.write(`respql: cannot start: ${(err as Error).message.split('\n')[0]}\n`);
    await server.close().catch(() => undefined);
    process.exit(1);
  }
  const stop = (signal: string) => {
    process.stdout.write(`respql: ${signal} received, shutting down\n`);
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
