/**
 * The Lua environment on its own (no server): conversions both ways, the sandbox, the 5.1
 * shims and the libraries. The expected texts are redis-server 7.0's (the differential tests
 * compare the same scripts against a real one); here they pin what the VM produces itself.
 */
import { expect } from 'chai';
import { LuaVm, formatG, sha1hex, toInteger } from '../../src/scripting/vm';
import type { HostRequest, Wire } from '../../src/scripting/wire';

/** A host with a tiny in-memory keyspace: GET, SET, DEL, INCR, and canned replies of other shapes. */
function makeVm() {
  const data = new Map<string, Buffer>();
  const calls: string[][] = [];
  const logs: [number, string][] = [];
  const vm = new LuaVm(
    {
      request(req: HostRequest): Wire {
        const argv = req.argv.map((a) => Buffer.from(a).toString('latin1'));
        calls.push(argv);
        const [cmd, key, value] = [argv[0].toLowerCase(), argv[1], req.argv[2]];
        switch (cmd) {
          case 'get':
            return data.get(key) ?? null;
          case 'set':
            data.set(key, Buffer.from(value));
            return { t: 'status', m: 'OK' };
          case 'del':
            return data.delete(key) ? 1 : 0;
          case 'incr': {
            const n = Number(data.get(key)?.toString() ?? '0');
            if (!Number.isInteger(n)) return { t: 'err', m: 'ERR value is not an integer or out of range' };
            data.set(key, Buffer.from(String(n + 1)));
            return n + 1;
          }
          case 'map':
            return { t: 'map', e: [[Buffer.from('a'), 1]] };
          case 'set3':
            return { t: 'set', i: [Buffer.from('x')] };
          case 'double':
            return { t: 'double', v: 1.5 };
          case 'bool':
            return { t: 'bool', v: true };
          case 'nullarray':
            return { t: 'nullArray' };
          default:
            return { t: 'err', m: 'ERR Unknown Redis command called from script' };
        }
      },
      log: (level, message) => logs.push([level, message]),
    },
    { redisVersion: '7.0.15' },
  );
  const run = (src: string, keys: string[] = [], args: (string | Buffer)[] = []): Wire => {
    const body = Buffer.from(src);
    const sha = sha1hex(body);
    vm.compile(sha, body);
    return vm.run(
      sha,
      keys.map((k) => Buffer.from(k)),
      args.map((a) => Buffer.from(a)),
      false,
    );
  };
  return { vm, run, data, calls, logs };
}

const text = (w: Wire) => Buffer.from(w as Uint8Array).toString('latin1');
const err = (w: Wire) => (w as { t: string; m: string }).m;

describe('scripting: the Lua VM', function () {
  const { vm, run, data, calls, logs } = makeVm();

  describe('Lua -> reply', function () {
    it('numbers truncate to integers, booleans and nil as Redis converts them (RESP2)', function () {
      expect(run("return {1, 2, 3.7, -3.99, 'x', true, false, nil, 5}")).to.deep.equal([1, 2, 3, -3, Buffer.from('x'), 1, null]);
      expect(run('return 1e300')).to.equal(-9223372036854775808n);
      expect(run('return 0/0')).to.equal(-9223372036854775808n);
      expect(run('return 2^53 + 2')).to.equal(9007199254740994n);
      expect(run('return nil')).to.equal(null);
    });
    it('tables with ok / err / double / map / set fields', function () {
      expect(run("return {ok='fine'}")).to.deep.equal({ t: 'status', m: 'fine' });
      expect(run("return {err='bad'}")).to.deep.equal({ t: 'err', m: 'bad' });
      expect(run("return redis.error_reply('My err')")).to.deep.equal({ t: 'err', m: 'My err' });
      expect(run("return redis.status_reply('DONE')")).to.deep.equal({ t: 'status', m: 'DONE' });
      expect(run('return {double=3.5}')).to.deep.equal({ t: 'double', v: 3.5 });
      expect(run('return {map={a=1}}')).to.deep.equal({ t: 'map', e: [[Buffer.from('a'), 1]] });
      expect(run('return {set={b=true}}')).to.deep.equal({ t: 'set', i: [Buffer.from('b')] });
      expect(run('return {1, {2, {3}}}')).to.deep.equal([1, [2, [3]]]);
    });
    it('booleans after redis.setresp(3) are booleans', function () {
      expect(run('redis.setresp(3) return true')).to.deep.equal({ t: 'bool', v: true });
      expect(run('redis.setresp(3) return false')).to.deep.equal({ t: 'bool', v: false });
      // setresp lasts one run
      expect(run('return false')).to.equal(null);
    });
    it('strings are binary safe both ways', function () {
      const bin = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
      expect(Buffer.compare(run('return ARGV[1]', [], [bin]) as Uint8Array, bin)).to.equal(0);
      run("return redis.call('set', KEYS[1], ARGV[1])", ['bin'], [bin]);
      expect(data.get('bin')!.equals(bin)).to.equal(true);
      expect(run("return #redis.call('get', 'bin')")).to.equal(6);
    });
  });

  describe('reply -> Lua', function () {
    it('RESP2: nil bulk is false, status/error are tables, maps flatten, doubles are strings, booleans integers', function () {
      expect(run("return redis.call('get', 'nokey') == false")).to.equal(1);
      expect(run("local r = redis.call('set', 'k', 'v') return r.ok")).to.deep.equal(Buffer.from('OK'));
      expect(run("local r = redis.pcall('incr', 'k') return {type(r), r.err}")).to.deep.equal([
        Buffer.from('table'),
        Buffer.from('ERR value is not an integer or out of range'),
      ]);
      expect(run("return redis.call('map')")).to.deep.equal([Buffer.from('a'), 1]);
      expect(run("return redis.call('set3')")).to.deep.equal([Buffer.from('x')]);
      expect(run("return redis.call('double')")).to.deep.equal(Buffer.from('1.5'));
      expect(run("return redis.call('bool')")).to.equal(1);
      expect(run("return redis.call('nullarray') == false")).to.equal(1);
    });
    it('RESP3: nil, map / set / double tables, real booleans', function () {
      expect(run("redis.setresp(3) return redis.call('get', 'nokey') == nil")).to.deep.equal({ t: 'bool', v: true });
      expect(run("redis.setresp(3) return redis.call('map').map.a")).to.equal(1);
      expect(run("redis.setresp(3) return redis.call('set3').set.x")).to.deep.equal({ t: 'bool', v: true });
      expect(run("redis.setresp(3) return redis.call('double').double * 2")).to.equal(3);
      expect(run("redis.setresp(3) return redis.call('bool') == true")).to.deep.equal({ t: 'bool', v: true });
    });
    it('numbers passed to redis.call are formatted with %.17g', function () {
      calls.length = 0;
      run("redis.call('set', 'n', 10/2) redis.call('set', 'n', 0.1) redis.call('set', 'n', 1e20) redis.call('set', 'n', 2^53)");
      expect(calls.map((c) => c[2])).to.deep.equal(['5', '0.10000000000000001', '1e+20', '9007199254740992']);
    });
  });

  describe('errors, with Redis 7.0 texts', function () {
    it('runtime errors carry the script and line', function () {
      const sha = sha1hex("error('boom')");
      expect(err(run("error('boom')"))).to.equal(`ERR user_script:1: boom script: ${sha}, on @user_script:1.`);
      expect(err(run("error({err='X y'})"))).to.equal(`X y script: ${sha1hex("error({err='X y'})")}, on @user_script:1.`);
      expect(err(run("\n\nreturn redis.call('incr', 'bin')"))).to.match(
        /^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:3\.$/,
      );
      expect(err(run("return redis.call('nosuch')"))).to.match(/^ERR Unknown Redis command called from script script: /);
      expect(err(run("return redis.pcall('nosuch')"))).to.equal('ERR Unknown Redis command called from script');
      expect(err(run('return redis.call()'))).to.match(/^ERR Please specify at least one argument for this redis lib call script: /);
      expect(err(run("return redis.call('get', {})"))).to.match(
        /^ERR Lua redis lib command arguments must be strings or integers script: /,
      );
      expect(err(run('redis.setresp(4)'))).to.match(/^ERR RESP version must be 2 or 3\. script: /);
    });
    it('compile errors', function () {
      // Lua 5.3's parser words these differently; Lua 5.1's wording is restored (as51).
      expect(() => run('syntax error here')).to.throw(
        "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'",
      );
      expect(() => run('return (1')).to.throw("ERR Error compiling script (new function): user_script:1: ')' expected near '<eof>'");
    });
  });

  describe('the sandbox', function () {
    it('has the globals of Redis 7.0 and no others', function () {
      expect(text(run("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return table.concat(t, ' ')"))).to.equal(
        'ARGV KEYS _G _VERSION __redis__err__handler assert bit cjson cmsgpack collectgarbage coroutine error gcinfo getmetatable ipairs load loadstring math next pairs pcall rawequal rawget rawset redis select setmetatable string struct table tonumber tostring type unpack xpcall',
      );
      for (const name of [
        'os',
        'io',
        'require',
        'loadfile',
        'dofile',
        'print',
        'package',
        'debug',
        'utf8',
        'module',
        'setfenv',
        'getfenv',
        'newproxy',
      ]) {
        expect(err(run(`return ${name}`))).to.match(
          new RegExp(`^ERR user_script:1: Script attempted to access nonexistent global variable '${name}'`),
        );
      }
    });
    it('globals and library tables are read-only', function () {
      expect(err(run('x = 1'))).to.match(/^ERR user_script:1: Attempt to modify a readonly table script: /);
      expect(err(run('string.foo = 1'))).to.match(/^ERR user_script:1: Attempt to modify a readonly table script: /);
      expect(err(run('redis.call = nil'))).to.match(/^ERR user_script:1: Attempt to modify a readonly table/);
      expect(err(run("rawset(_G, 'x', 1)"))).to.match(/^ERR Attempt to modify a readonly table script: /);
      expect(err(run('setmetatable(_G, nil)'))).to.match(/^ERR Attempt to modify a readonly table script: /);
      expect(err(run("getmetatable('').__index.upper = nil"))).to.match(/Attempt to modify a readonly table|attempt to index/);
      expect(text(run("return ('abc'):upper()"))).to.equal('ABC');
      // nothing leaked into the next run
      expect(err(run('return x'))).to.match(/nonexistent global variable 'x'/);
    });
    it('no bytecode, no way out through load', function () {
      expect(run('return loadstring(string.dump(function() return 1 end))')).to.equal(null);
      expect(err(run("return load('return os')()"))).to.match(/nonexistent global variable 'os'/);
      expect(run("return loadstring('return 5')()")).to.equal(5);
    });
    it('deep recursion is an error, not a crash', function () {
      expect(err(run('local function f(n) return f(n + 1) + 1 end return f(1)'))).to.match(/stack overflow/);
      expect(run('return 1')).to.equal(1);
    });
  });

  describe('Lua 5.1 as Redis has it', function () {
    it('numbers are doubles and print with %.14g', function () {
      expect(
        text(
          run(
            "return tostring(10/2) .. ' ' .. tostring(1e15) .. ' ' .. tostring(0.1) .. ' ' .. (2^53) .. ' ' .. tostring(1/0) .. ' ' .. 7/2",
          ),
        ),
      ).to.equal('5 1e+15 0.1 9.007199254741e+15 inf 3.5');
      // fengari's integers are 32-bit: every numeral is a float instead, so nothing wraps.
      expect(
        text(
          run(
            "local n = 2147483647 return tostring(n + 1) .. ' ' .. tostring(1700000000 * 1000) .. ' ' .. tostring(tonumber('4294967296') * 2)",
          ),
        ),
      ).to.equal('2147483648 1700000000000 8589934592');
    });
    it('5.1 names', function () {
      expect(run('return table.getn({1,2,3}) + math.mod(7, 3) + math.pow(2, 3) + math.log10(100)')).to.equal(14);
      expect(run('return unpack({4, 5})')).to.equal(4);
      expect(text(run("local s = '' for w in string.gfind('a b', '%a') do s = s .. w end return s"))).to.equal('ab');
      expect(text(run('return _VERSION'))).to.equal('Lua 5.1');
      expect(run('return select(2, math.frexp(8))')).to.equal(4);
    });
    it('KEYS and ARGV', function () {
      expect(text(run('return type(KEYS) .. #KEYS .. #ARGV', ['a', 'b'], ['c']))).to.equal('table21');
      expect(text(run("KEYS[1] = 'x' return KEYS[1]", ['a']))).to.equal('x');
    });
  });

  describe('redis.*', function () {
    it('sha1hex, log, constants, no-op replication calls', function () {
      expect(text(run("return redis.sha1hex('')"))).to.equal('da39a3ee5e6b4b0d3255bfef95601890afd80709');
      run("redis.log(redis.LOG_WARNING, 'hello', 'world')");
      expect(logs.at(-1)).to.deep.equal([3, 'hello world']);
      expect(
        run(
          'return {redis.REPL_ALL, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_NONE, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}',
        ),
      ).to.deep.equal([3, 1, 2, 2, 0, 0, 1, 2, 3]);
      expect(text(run('return redis.REDIS_VERSION'))).to.equal('7.0.15');
      expect(run('return redis.set_repl(redis.REPL_ALL)')).to.equal(null);
      expect(run('return redis.replicate_commands()')).to.equal(1);
    });
  });

  describe('libraries', function () {
    it('cjson', function () {
      expect(text(run("return cjson.encode({1, 'a/b', {x = true}})"))).to.equal('[1,"a\\/b",{"x":true}]');
      expect(text(run('return cjson.encode({})'))).to.equal('{}');
      expect(run('return cjson.decode(\'[1,2,{"a":null}]\')[2]')).to.equal(2);
      expect(run('return cjson.decode(\'{"a":null}\').a == cjson.null')).to.equal(1);
      expect(err(run("return cjson.decode('{bad')"))).to.match(/^ERR user_script:1: Expected value but found invalid token/);
      expect(text(run('return cjson.encode({n = 0.1, m = 1e20})')).length).to.be.greaterThan(0);
    });
    it('bit', function () {
      expect(text(run('return bit.band(7, 3) .. bit.tohex(255) .. bit.bnot(0)'))).to.equal('3000000ff-1');
      expect(
        run('return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2), bit.bxor(5, 3), bit.tobit(2^32 + 1), bit.rol(1, 33)}'),
      ).to.deep.equal([-2147483648, 15, -4, 6, 1, 2]);
    });
    it('struct', function () {
      expect(Buffer.from(run("return struct.pack('>I2', 258)") as Uint8Array)).to.deep.equal(Buffer.from([1, 2]));
      expect(run("return {struct.unpack('<i4', struct.pack('<i4', -5))}")).to.deep.equal([-5, 5]);
      expect(run("return struct.size('>I2i4')")).to.equal(6);
    });
    it('cmsgpack', function () {
      expect(Buffer.from(run("return cmsgpack.pack({1,2,'x'})") as Uint8Array)).to.deep.equal(Buffer.from([0x93, 1, 2, 0xa1, 0x78]));
      expect(run("local t = cmsgpack.unpack(cmsgpack.pack({1, {a = -300}, 'x'})) return {t[1], t[2].a, t[3]}")).to.deep.equal([
        1,
        -300,
        Buffer.from('x'),
      ]);
    });
  });

  describe('helpers', function () {
    it('formatG is C printf %g', function () {
      expect([5, 0.1, 1e20, 1e-5, 123456.789, -0, 1 / 3].map((n) => formatG(n, 17))).to.deep.equal([
        '5',
        '0.10000000000000001',
        '1e+20',
        '1.0000000000000001e-05',
        '123456.789',
        '-0',
        '0.33333333333333331',
      ]);
      expect(formatG(1e15, 14)).to.equal('1e+15');
    });
    it('toInteger', function () {
      expect([toInteger(3.9), toInteger(-3.9), toInteger(Infinity), toInteger(2 ** 60)]).to.deep.equal([
        3,
        -3,
        -9223372036854775808n,
        1152921504606846976n,
      ]);
    });
  });

  it('keeps working after many runs (no stack growth)', function () {
    for (let i = 0; i < 2000; i++) run("return redis.call('get', KEYS[1])", ['k']);
    expect(run('return 1')).to.equal(1);
    void vm;
  });
});
