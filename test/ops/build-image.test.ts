/**
 * The container image's build, without a Docker engine: scripts/build-image.sh (what the
 * Dockerfile's build stage RUNs) into a temp dir, then the built tree is started the way
 * the image starts it (environment only: DATABASE_URL, RESPQL_BIND=0.0.0.0, RESPQL_PORT)
 * and checked with its own `respql ping` (the HEALTHCHECK) and `respql migrate`.
 *
 * Speed: npm ci prefers the npm cache (npm_config_prefer_offline), and better-sqlite3's
 * addon, already compiled in this checkout's node_modules, is offered to its installer as
 * a local prebuilt binary (prebuild-install's documented `local-prebuilds` setting), which
 * saves a ~90 s compile on a 2-core machine. Without that binary the script compiles it.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { cli, freePort, ROOT, run, startProcess, tempDir } from './helpers';

function seedLocalPrebuild(dir: string): NodeJS.ProcessEnv {
  const addon = path.join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(addon)) return {};
  const version = (
    JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const stage = path.join(dir, 'stage');
  mkdirSync(path.join(stage, 'build', 'Release'), { recursive: true });
  copyFileSync(addon, path.join(stage, 'build', 'Release', 'better_sqlite3.node'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-C', stage, '-czf', path.join(dir, name), 'build']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

describe('container image build (scripts/build-image.sh)', function () {
  this.timeout(240_000);
  let tmp: ReturnType<typeof tempDir>;
  let app: string;

  before(async function () {
    tmp = tempDir('respql-image-');
    app = path.join(tmp.dir, 'app');
    const prebuilds = path.join(tmp.dir, 'prebuilds');
    mkdirSync(prebuilds);
    const result = await run('sh', [path.join(ROOT, 'scripts', 'build-image.sh'), ROOT, app], {
      env: { ...seedLocalPrebuild(prebuilds), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
      timeoutMs: 220_000,
    });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
  });

  after(() => tmp?.remove());

  it('holds the compiled server and production dependencies only', () => {
    expect(existsSync(path.join(app, 'dist', 'src', 'cli.js'))).to.equal(true);
    expect(existsSync(path.join(app, 'dist', 'test')), 'tests are not shipped').to.equal(false);
    expect(existsSync(path.join(app, 'package.json'))).to.equal(true);
    for (const dep of ['knex', 'pg', 'better-sqlite3', 'redis-parser', 'pino']) {
      expect(existsSync(path.join(app, 'node_modules', dep)), dep).to.equal(true);
    }
    for (const dev of ['typescript', 'mocha', 'chai', 'ioredis', 'ts-node', '@types/node']) {
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).to.equal(false);
    }
    expect(existsSync(path.join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).to.equal(true);
    expect(existsSync(path.join(app, 'node_modules', 'better-sqlite3', 'deps')), 'SQLite sources are dropped').to.equal(false);
  });

  it('starts with the image environment alone, answers its own ping, and stops on SIGTERM', async () => {
    const cliPath = path.join(app, 'dist', 'src', 'cli.js');
    const data = path.join(tmp.dir, 'data');
    mkdirSync(data);
    const port = await freePort();
    // What the Dockerfile sets; `docker run -p 6379:6379 respql` passes nothing else.
    const imageEnv: NodeJS.ProcessEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: path.join(data, 'respql.sqlite'),
      RESPQL_PORT: String(port),
      RESPQL_BIND: '0.0.0.0',
      RESPQL_PROTECTED_MODE: 'no',
      RESPQL_TABLE: '',
      RESPQL_REQUIREPASS: '',
      RESPQL_LOGLEVEL: '',
      RESPQL_LOG_FORMAT: '',
      RESPQL_MIGRATE: '',
    };
    const server = await startProcess(process.execPath, [cliPath, 'serve'], /ready on/, { env: imageEnv, cwd: data });
    try {
      expect(server.output()).to.match(new RegExp(`ready on 0\\.0\\.0\\.0:${port}`));
      const ping = await cli(['ping'], { cliPath, env: imageEnv, cwd: data });
      expect(ping.code, ping.stderr).to.equal(0);
      expect(ping.stdout).to.equal('PONG\n');
      const migrate = await cli(['migrate'], { cliPath, env: imageEnv, cwd: data });
      expect(migrate.code, migrate.stdout + migrate.stderr).to.equal(0);
      expect(migrate.stdout).to.match(/up to date/);
      const version = await cli(['--version'], { cliPath, env: imageEnv });
      expect(version.stdout).to.match(/^respql \d+\.\d+\.\d+/);
    } finally {
      expect(await server.stop()).to.equal(0);
    }
    expect(existsSync(path.join(data, 'respql.sqlite'))).to.equal(true);
    const after = await cli(['ping'], { cliPath, env: imageEnv });
    expect(after.code).to.equal(1);
  });

  it('the Dockerfile runs that script and sets what the image promises', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).to.match(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile).to.match(/^RUN sh scripts\/build-image\.sh \/src \/app$/m);
    expect(dockerfile).to.match(/^COPY --from=build \/app \/app$/m);
    expect(dockerfile).to.match(/DATABASE_URL=\/data\/respql\.sqlite/);
    expect(dockerfile).to.match(/RESPQL_BIND=0\.0\.0\.0/);
    expect(dockerfile).to.match(/RESPQL_PROTECTED_MODE=no/);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^VOLUME \/data$/m);
    expect(dockerfile).to.match(/^EXPOSE 6379$/m);
    expect(dockerfile).to.match(/^HEALTHCHECK .*CMD \["respql", "ping"\]$/m);
    expect(dockerfile).to.match(/^ENTRYPOINT \["respql"\]$/m);
    // Every file the build stage COPYs is let through .dockerignore.
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'knexfile.ts', 'src/', 'scripts/build-image.sh']) {
      expect(ignore).to.include(`!${f}`);
    }
  });
});
