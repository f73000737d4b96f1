/**
 * The script worker and its handshake with the main thread: redis.call answered asynchronously
 * while the main thread's event loop stays free, SCRIPT KILL, the memory bound, and a new
 * worker after a kill that still has the function libraries.
 */
import { expect } from 'chai';
import { ScriptRunner } from '../../src/scripting/runner';
import { sha1hex } from '../../src/scripting/vm';
import type { HostRequest, Wire } from '../../src/scripting/wire';

const b = (s: string) => Buffer.from(s);
const text = (w: Wire) => Buffer.from(w as Uint8Array).toString();

describe('scripting: the script worker', function () {
  this.timeout(30000);
  const runner = new ScriptRunner({ redisVersion: '7.0.15', memoryMb: 32 });
  after(() => runner.close());

  const evalScript = (
    src: string,
    onRequest: (r: HostRequest) => Promise<Wire> | Wire = () => null,
    keys: string[] = [],
    args: string[] = [],
  ) => runner.eval(sha1hex(src), b(src), keys.map(b), args.map(b), false, onRequest);

  it('runs a script whose redis.call is answered asynchronously, in order', async function () {
    const seen: string[] = [];
    const reply = await evalScript(
      "local a = redis.call('GET', KEYS[1]) local b = redis.call('INCR', 'n') return {a, b}",
      async (req) => {
        seen.push(req.argv.map((a) => Buffer.from(a).toString()).join(' '));
        await new Promise((r) => setTimeout(r, 20));
        return seen.length === 1 ? b('value') : 7;
      },
      ['k'],
    );
    expect(seen).to.deep.equal(['GET k', 'INCR n']);
    expect(reply).to.deep.equal([new Uint8Array(b('value')), 7]);
  });

  it('compile errors come back as errors; a known sha is not sent again', async function () {
    const r = await evalScript('return +');
    expect((r as { m: string }).m).to.match(/^ERR Error compiling script \(new function\): user_script:1: /);
    await runner.compile(sha1hex('return 42'), b('return 42'));
    expect(await runner.eval(sha1hex('return 42'), b('ignored: already compiled'), [], [], false, () => null)).to.equal(42);
  });

  it('keeps the event loop free while Lua loops, and SCRIPT KILL stops it', async function () {
    const running = evalScript('local i = 0 while true do i = i + 1 end');
    const ticks = await new Promise<number>((resolve) => {
      let n = 0;
      const t = setInterval(() => n++, 10);
      setTimeout(() => (clearInterval(t), resolve(n)), 300);
    });
    expect(ticks).to.be.greaterThan(10);
    expect(runner.running?.kind).to.equal('eval');
    // FUNCTION KILL while EVAL runs: Redis answers with EVAL's BUSY text.
    expect(runner.kill('function')?.message).to.match(/^BUSY .* SCRIPT KILL/);
    expect(runner.kill('eval')).to.equal(null);
    expect(((await running) as { m: string }).m).to.equal('ERR Script killed by user with SCRIPT KILL...');
    expect(runner.kill('eval')?.message).to.equal('NOTBUSY No scripts in execution right now.');
    // A new worker takes the next script.
    expect(await evalScript('return 5')).to.equal(5);
  });

  it('keeps the event loop turning while a script loops on redis.call answered at once, and counts nothing twice', async function () {
    // Answered in a microtask, as SQLite's statements are: the main thread waits for the worker
    // itself between calls, but yields to the event loop within its budget.
    expect(await evalScript('return 1')).to.equal(1); // the worker is up
    let calls = 0;
    const running = evalScript("local n = 0 while true do n = redis.call('INCR', 'n') end", () => Promise.resolve(++calls));
    let ticks: number;
    try {
      ticks = await new Promise<number>((resolve) => {
        let n = 0;
        const t = setInterval(() => n++, 10);
        setTimeout(() => (clearInterval(t), resolve(n)), 300);
      });
    } finally {
      expect(runner.kill('eval')).to.equal(null);
    }
    expect(((await running) as { m: string }).m).to.equal('ERR Script killed by user with SCRIPT KILL...');
    expect(ticks).to.be.greaterThan(10);
    expect(calls).to.be.greaterThan(ticks);
    // The next script on a new worker sees every answer once, in order.
    const seen: number[] = [];
    const reply = await evalScript(
      "local t = {} for i = 1, 200 do t[i] = redis.call('ECHO', i) end return t",
      (req) => (seen.push(Number(Buffer.from(req.argv[1]).toString())), Promise.resolve(seen.length * 10)),
    );
    expect(seen).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(reply).to.deep.equal(Array.from({ length: 200 }, (_, i) => (i + 1) * 10));
  });

  it('a script that wrote cannot be killed', async function () {
    // The script runs until the test lets it end (its GET of 'stop' answers 1), whatever the machine's speed.
    let stop = false;
    const running = evalScript("redis.call('SET', 'k', 'v') while redis.call('GET', 'stop') ~= '1' do end return 'done'", (req) =>
      Buffer.from(req.argv[0]).toString() === 'SET' ? { t: 'status', m: 'OK' } : stop ? b('1') : null,
    );
    while (!runner.running) await new Promise((r) => setTimeout(r, 5));
    runner.running.wrote = true; // what the command layer sets on a write command
    expect(runner.kill('eval')?.message).to.match(/^UNKILLABLE Sorry the script already executed write commands/);
    stop = true;
    expect(text(await running)).to.equal('done');
  });

  it('a script that allocates without bound ends with an error, not the process', async function () {
    const r = await evalScript("local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('x', 100) .. i end");
    expect((r as { m: string }).m).to.match(/memory/);
    expect(await evalScript('return 6')).to.equal(6);
  });

  it('function libraries survive a new worker', async function () {
    const lib = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] .. keys[1] end)";
    expect((await runner.loadLibrary(b(lib), false)).library).to.equal('mylib');
    const killed = evalScript('while true do end');
    await new Promise((r) => setTimeout(r, 100));
    runner.kill('eval');
    await killed;
    expect(text(await runner.callFunction('myfunc', [b('k')], [b('a')], false, () => null))).to.equal('ak');
  });
});
