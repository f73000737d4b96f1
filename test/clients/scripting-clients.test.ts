/**
 * The clients that need Lua, against respql on both backends:
 *  - PHP's native session handler (phpredis) with locking on: two concurrent requests on one
 *    session serialize, and the lock is released by its EVALSHA (EVAL on NOSCRIPT);
 *  - express-rate-limit with rate-limit-redis (SCRIPT LOAD, then EVALSHA) in an express app;
 *  - Laravel's lock release and Cache::add scripts (Illuminate\Cache\LuaScripts), django-redis's
 *    incr script, and redis-py's Script object (EVALSHA, SCRIPT LOAD on NOSCRIPT), from redis-py.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const run = promisify(execFile);

/** One PHP request: opens session `id` (locking on), counts, holds the session for `holdMs`. */
const PHP = `
session_id($argv[1]);
$t0 = microtime(true);
session_start();
$t1 = microtime(true);
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
usleep((int)$argv[2] * 1000);
$n = $_SESSION['n'];
session_write_close();
echo json_encode(['started' => $t1, 'ended' => microtime(true), 'n' => $n]);
`;

const PYTHON = `
import sys, json, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = {}
# Laravel: Illuminate\\Cache\\LuaScripts::releaseLock() and ::add()
release = 'if redis.call("get",KEYS[1]) == ARGV[1] then\\n    return redis.call("del",KEYS[1])\\nelse\\n    return 0\\nend'
add = "return redis.call('exists',KEYS[1])<1 and redis.call('setex',KEYS[1],ARGV[2],ARGV[1])"
r.set('laravel:lock', 'owner-1', nx=True, ex=10)
out['release_other'] = r.eval(release, 1, 'laravel:lock', 'owner-2')
out['release_own'] = r.eval(release, 1, 'laravel:lock', 'owner-1')
out['lock_left'] = r.exists('laravel:lock')
out['add_first'] = r.eval(add, 1, 'laravel:add', 'v1', 60).decode()
out['add_second'] = r.eval(add, 1, 'laravel:add', 'v2', 60)
out['add_value'] = r.get('laravel:add').decode()
out['add_ttl'] = 0 < r.ttl('laravel:add') <= 60
# django-redis: DefaultClient._incr's script (the key must exist)
incr = "local exists = redis.call('EXISTS', KEYS[1])\\nif (exists == 1) then\\n    return redis.call('INCRBY', KEYS[1], ARGV[1])\\nelse return false\\nend"
out['incr_missing'] = r.eval(incr, 1, 'django:n', 2)
r.set('django:n', 40)
out['incr'] = r.eval(incr, 1, 'django:n', 2)
# redis-py's Script: EVALSHA first, SCRIPT LOAD and EVALSHA again on NOSCRIPT
r.script_flush()
s = r.register_script("return {KEYS[1], ARGV[1], redis.call('incr', KEYS[1])}")
out['script'] = [x.decode() if isinstance(x, bytes) else x for x in s(keys=['pyscript:n'], args=['a'])]
out['script_again'] = s(keys=['pyscript:n'], args=['b'])[2]
print(json.dumps(out))
`;

for (const backend of BACKENDS) {
  describe(`clients that use Lua, against respql (${backend})`, function () {
    this.timeout(60000);
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(() => respql?.stop());

    it('PHP sessions with locking: concurrent requests on one session serialize; EVALSHA releases the lock', async function () {
      const php = (holdMs: number) =>
        run(
          'php',
          [
            '-d',
            'session.save_handler=redis',
            '-d',
            `session.save_path=tcp://127.0.0.1:${respql.port}`,
            '-d',
            'redis.session.locking_enabled=1',
            '-d',
            'redis.session.lock_retries=-1',
            '-d',
            'redis.session.lock_wait_time=10000',
            '-d',
            'redis.session.lock_expire=30',
            '-r',
            PHP,
            'phplocksession1',
            String(holdMs),
          ],
          { timeout: 30000 },
        ).then(({ stdout }) => JSON.parse(stdout) as { started: number; ended: number; n: number });
      const first = php(1200);
      await new Promise((r) => setTimeout(r, 300));
      const second = php(0);
      const [a, b] = await Promise.all([first, second]);
      const [early, late] = a.started <= b.started ? [a, b] : [b, a];
      // The later request got the session only once the earlier one had written and unlocked it.
      expect(late.started).to.be.at.least(early.ended - 0.05);
      expect([early.n, late.n]).to.deep.equal([1, 2]);
      const c = await RawClient.connect(respql.port);
      try {
        expect(toStrings(await c.send('KEYS', '*_LOCK'))).to.deep.equal([]);
        const info = String(toStrings(await c.send('INFO', 'commandstats')));
        expect(info).to.match(/cmdstat_evalsha:calls=[1-9]/);
      } finally {
        await c.close();
      }
    });

    it('express-rate-limit with rate-limit-redis: the fourth request in the window is refused', async function () {
      const client = createClient({ url: respql.url });
      await client.connect();
      const app = express();
      app.use(
        rateLimit({
          windowMs: 60_000,
          limit: 3,
          standardHeaders: 'draft-7',
          legacyHeaders: false,
          store: new RedisStore({ sendCommand: (...args: string[]) => client.sendCommand(args), prefix: `rl-${backend}:` }),
        }),
      );
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await fetch(url)).status);
        expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
        const stats = String(await client.sendCommand(['INFO', 'commandstats']));
        expect(stats).to.match(/cmdstat_script\|load:calls=[1-9]/);
        expect(stats).to.match(/cmdstat_evalsha:calls=[5-9]/);
      } finally {
        server.close();
        await client.quit();
      }
    });

    it('Laravel lock release and Cache::add, django-redis incr, redis-py Script (python3-redis)', async function () {
      const { stdout } = await run('/usr/bin/python3', ['-c', PYTHON, String(respql.port)], { timeout: 20000 });
      expect(JSON.parse(stdout)).to.deep.equal({
        release_other: 0,
        release_own: 1,
        lock_left: 0,
        add_first: 'OK',
        add_second: null,
        add_value: 'v1',
        add_ttl: true,
        incr_missing: null,
        incr: 42,
        script: ['pyscript:n', 'a', 1],
        script_again: 2,
      });
    });
  });
}
