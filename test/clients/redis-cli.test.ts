import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const run = promisify(execFile);

/** redis-cli as an operator uses it (Debian's redis-tools). */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 20_000 });
  return stdout;
}

for (const backend of BACKENDS) {
  describe(`redis-cli against respql (${backend})`, () => {
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(async () => respql.stop());

    it('SET ... PXAT, GET, TTL, DEL as on Redis', async () => {
      const at = Date.now() + 100_000;
      expect(await cli(respql.port, 'SET', 'sess:abc', '{"user":1}', 'PXAT', String(at))).to.equal('OK\n');
      expect(await cli(respql.port, 'GET', 'sess:abc')).to.equal('{"user":1}\n');
      expect(Number(await cli(respql.port, 'TTL', 'sess:abc'))).to.be.within(99, 100);
      expect(await cli(respql.port, 'DEL', 'sess:abc')).to.equal('1\n');
      expect(await cli(respql.port, 'GET', 'sess:abc')).to.equal('\n');
    });

    it('answers PING typed as an inline command, and RESP3 with -3', async () => {
      const { stdout } = await run('bash', ['-c', `printf 'PING\\r\\n' | redis-cli -p ${respql.port}`]);
      expect(stdout).to.equal('PONG\n');
      expect(await cli(respql.port, '-3', 'HELLO', '3')).to.match(/^server redis\n(.|\n)*proto 3\n/);
    });

    it('reads INFO (loading:0, keyspace) and CONFIG GET', async () => {
      await cli(respql.port, 'SET', 'k', 'v');
      const info = await cli(respql.port, 'INFO');
      expect(info).to.match(/loading:0/);
      expect(info).to.match(/db0:keys=1,expires=0,avg_ttl=0/);
      expect(await cli(respql.port, 'CONFIG', 'GET', 'appendonly')).to.equal('appendonly\nyes\n');
    });
  });
}
