/**
 * docker-compose.yml (the scale-out topology) cannot run here (no Docker engine): check its
 * shape, that its respql settings are real ones, and that HAProxy accepts the config it mounts.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { envName, SETTINGS } from '../../src/settings';

const ROOT = path.resolve(__dirname, '../../..');

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/**
 * The YAML our compose file uses: block maps and lists by indentation, plain or quoted
 * scalars, JSON-style flow lists; whole-line comments. Anything else is an error.
 */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .map((raw, n) => ({ n: n + 1, indent: raw.search(/\S/), content: raw.trim() }))
    .filter((l) => l.content && !l.content.startsWith('#'));
  let i = 0;
  const scalar = (s: string): Yaml => {
    if (s.startsWith('[')) return JSON.parse(s) as Yaml;
    const quoted = /^"(.*)"$|^'(.*)'$/.exec(s);
    return quoted ? (quoted[1] ?? quoted[2]) : s;
  };
  const block = (indent: number): Yaml => {
    if (lines[i].content.startsWith('- ')) {
      const list: Yaml[] = [];
      while (i < lines.length && lines[i].indent === indent && lines[i].content.startsWith('- '))
        list.push(scalar(lines[i++].content.slice(2)));
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (i < lines.length && lines[i].indent === indent) {
      const line = lines[i++];
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.content);
      if (!m) throw new Error(`line ${line.n}: not a key: ${line.content}`);
      if (m[2] !== undefined) map[m[1]] = scalar(m[2]);
      else map[m[1]] = i < lines.length && lines[i].indent > indent ? block(lines[i].indent) : '';
    }
    if (i < lines.length && lines[i].indent > indent) throw new Error(`line ${lines[i].n}: unexpected indentation`);
    return map;
  };
  return block(0);
}

const asMap = (y: Yaml | undefined) => y as { [key: string]: Yaml };

describe('docker-compose.yml: PostgreSQL, two respql instances, HAProxy', () => {
  const compose = asMap(parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')));
  const services = asMap(compose.services);
  const instances = ['respql1', 'respql2'];

  it('runs postgres, a one-off migrate, two respql instances and haproxy', () => {
    expect(Object.keys(services).sort()).to.deep.equal(['haproxy', 'migrate', 'postgres', 'respql1', 'respql2']);
    expect(asMap(services.postgres).image).to.match(/^postgres:\d+/);
    expect(asMap(services.migrate).command).to.deep.equal(['migrate']);
    expect(asMap(asMap(asMap(services.migrate).depends_on).postgres).condition).to.equal('service_healthy');
  });

  it('builds the instances from the repository Dockerfile and points them at postgres, on every interface, without migrating', () => {
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).to.equal(true);
    const settings = new Set(SETTINGS.filter((s) => s.commands.length).map(envName));
    for (const name of [...instances, 'migrate']) {
      const service = asMap(services[name]);
      expect(service.build, name).to.equal('.');
      const env = asMap(service.environment);
      expect(env.DATABASE_URL, name).to.match(/^postgres:\/\/[^@]+@postgres:5432\/\w+$/);
      for (const key of Object.keys(env)) expect(settings.has(key), `${name}: ${key} is a respql setting`).to.equal(true);
    }
    for (const name of instances) {
      const service = asMap(services[name]);
      expect(asMap(service.environment)).to.include({ RESPQL_BIND: '0.0.0.0', RESPQL_MIGRATE: 'no' });
      expect(asMap(asMap(service.depends_on).migrate).condition).to.equal('service_completed_successfully');
    }
  });

  it('publishes HAProxy on 6379 with deploy/haproxy.cfg, which haproxy -c accepts and which balances the two instances', () => {
    const haproxy = asMap(services.haproxy);
    expect(haproxy.image).to.match(/^haproxy:/);
    expect(haproxy.ports).to.include('6379:6379');
    expect(haproxy.volumes).to.deep.equal(['./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']);
    const cfgPath = path.join(ROOT, 'deploy', 'haproxy.cfg');
    const check = spawnSync('haproxy', ['-c', '-f', cfgPath], { encoding: 'utf8' });
    expect(check.error, 'haproxy installed (apt-get install haproxy)').to.equal(undefined);
    expect(check.status, `${check.stdout}${check.stderr}`).to.equal(0);
    const cfg = readFileSync(cfgPath, 'utf8');
    expect(cfg).to.match(/^\s*mode tcp$/m);
    expect(cfg).to.match(/^\s*bind :6379$/m);
    expect(cfg).to.match(/^\s*option redis-check$/m);
    expect([...cfg.matchAll(/^\s*server (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]])).to.deep.equal(
      instances.map((name) => [name, `${name}:6379`]),
    );
  });
});
