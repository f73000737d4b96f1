/** The reliability settings: --database-timeout, --pool-size, --shutdown-timeout (flags and environment). */
import { expect } from 'chai';
import { ConfigError, parseCommandLine } from '../../src/config';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommandLine(argv, env).options;

describe('reliability settings', () => {
  it('take durations and a pool size, from flags or the environment', () => {
    expect(parse(['--database-timeout', '2s', '--pool-size', '3', '--shutdown-timeout', '30'])).to.include({
      databaseTimeoutMs: 2000,
      poolSize: 3,
      shutdownTimeoutMs: 30_000,
    });
    expect(parse([], { RESPQL_DATABASE_TIMEOUT: '500ms', RESPQL_POOL_SIZE: '20', RESPQL_SHUTDOWN_TIMEOUT: '1m' })).to.include({
      databaseTimeoutMs: 500,
      poolSize: 20,
      shutdownTimeoutMs: 60_000,
    });
    expect(parseCommandLine(['migrate', '--database-timeout', '1s'], {}).options.databaseTimeoutMs).to.equal(1000);
  });

  it('refuse a bad value with an error naming the setting', () => {
    for (const [argv, name] of [
      [['--database-timeout', '0'], '--database-timeout'],
      [['--database-timeout', 'soon'], '--database-timeout'],
      [['--pool-size', '0'], '--pool-size'],
      [['--pool-size', '1.5'], '--pool-size'],
      [['--shutdown-timeout', '-1'], '--shutdown-timeout'],
      [['ping', '--shutdown-timeout', '1s'], '--shutdown-timeout'],
    ] as const) {
      expect(() => parse([...argv]), argv.join(' ')).to.throw(ConfigError, name);
    }
    expect(() => parse([], { RESPQL_POOL_SIZE: 'many' })).to.throw(ConfigError, 'RESPQL_POOL_SIZE');
  });
});
