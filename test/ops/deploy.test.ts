/** deploy/: the systemd unit and its environment file, and the README's deployment guide. */
import { expect } from 'chai';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { envName, SETTINGS } from '../../src/settings';
import { run, tempDir } from './helpers';

const ROOT = path.resolve(__dirname, '../../..');
const UNIT = path.join(ROOT, 'deploy', 'respql.service');
const ENV_FILE = path.join(ROOT, 'deploy', 'respql.env');

/** An INI-style unit file: section -> key -> values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

describe('deploy/respql.service', function () {
  this.timeout(30_000);
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const get = (section: string, key: string) => unit.get(section)?.get(key);

  it('starts the built CLI with its environment file, restarts on failure, stops with SIGTERM', () => {
    expect(get('Unit', 'Description')).to.have.length(1);
    expect(get('Service', 'ExecStart')).to.deep.equal(['/usr/bin/env node /opt/respql/dist/src/cli.js']);
    expect(get('Service', 'EnvironmentFile')).to.deep.equal(['/etc/respql/respql.env']);
    expect(get('Service', 'Restart')).to.deep.equal(['on-failure']);
    expect(get('Service', 'KillSignal')).to.deep.equal(['SIGTERM']);
    expect(get('Install', 'WantedBy')).to.deep.equal(['multi-user.target']);
    // /opt/respql is what scripts/build-image.sh produces: dist/src/cli.js is the package's bin.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.respql).to.equal('dist/src/cli.js');
    // The SQLite file of the env file is inside the unit's state directory.
    expect(get('Service', 'StateDirectory')).to.deep.equal(['respql']);
    expect(readFileSync(ENV_FILE, 'utf8')).to.match(/^DATABASE_URL=\/var\/lib\/respql\//m);
  });

  it('passes systemd-analyze verify without a warning (where systemd is installed)', async () => {
    const tmp = tempDir('respql-unit-');
    try {
      const copy = path.join(tmp.dir, 'respql.service');
      copyFileSync(UNIT, copy);
      const result = await run('systemd-analyze', ['verify', copy]).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null; // no systemd here: the key checks above stand alone
        throw err;
      });
      if (result) {
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.equal('');
      }
    } finally {
      tmp.remove();
    }
  });

  it('the environment file names only real settings', () => {
    const names = readFileSync(ENV_FILE, 'utf8')
      .split('\n')
      .map((l) => /^#?([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(names).to.include.members(['DATABASE_URL', 'RESPQL_PORT', 'RESPQL_BIND', 'RESPQL_METRICS_PORT']);
    const known = SETTINGS.filter((s) => s.commands.length).map(envName);
    for (const name of names) expect(known, name).to.include(name);
  });
});

describe('README deployment guide', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('gives the commands for Docker, compose, systemd, metrics and the cut-over from Redis', () => {
    for (const command of [
      'docker build -t respql .',
      'docker run -d --name respql -p 6379:6379 -v respql-data:/data respql',
      'docker compose up -d',
      'sudo cp deploy/respql.service /etc/systemd/system/respql.service',
      'sudo systemctl enable --now respql',
      'npx respql --metrics-port 9187',
      "npx respql import --from redis://127.0.0.1:6379 --match 'sess:*'",
    ]) {
      expect(readme).to.include(command);
    }
  });

  it('names files that exist', () => {
    for (const file of [
      'deploy/respql.service',
      'deploy/respql.env',
      'docker-compose.yml',
      'scripts/build-image.sh',
      'examples/express-connect-redis',
    ]) {
      expect(readme).to.include(file);
      expect(existsSync(path.join(ROOT, file)), file).to.equal(true);
    }
  });
});
