/**
 * Compares the two Lua VMs that run on Node without native code, for choosing respql's
 * scripting VM: wasmoon (Lua 5.4 compiled to WebAssembly) and fengari (Lua 5.3 written in
 * JavaScript). Each figure is measured in a fresh child process so that module loading is
 * counted and one VM's JIT warm-up does not help the other.
 *
 *   npm run build && node dist/scripts/lua-vm-bench.js
 */
import { execFileSync } from 'node:child_process';

/** A lock release as Redlock and phpredis run it: one call out to the host, compare, one more call. */
const SHORT = `local v = call('GET', KEYS[1]) if v == ARGV[1] then return call('DEL', KEYS[1]) else return 0 end`;
/** CPU only: arithmetic, table and string work in a loop (no host calls). */
const HEAVY = `local t = {} local s = 0
for i = 1, 3000000 do s = s + (i % 7) * 2 end
for i = 1, 200000 do t[#t + 1] = tostring(i) end
return s + #table.concat(t, ',')`;

const SHORT_RUNS = 20000;

function child(vm: string): void {
  const started = performance.now();
  if (vm === 'fengari') {
    const { lua, lauxlib, lualib, to_luastring } = require('fengari');
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    lua.lua_pushcfunction(L, (L2: unknown) => {
      const cmd = lua.lua_tojsstring(L2, 1);
      if (cmd === 'GET') lua.lua_pushstring(L2, to_luastring('token'));
      else lua.lua_pushinteger(L2, 1);
      return 1;
    });
    lua.lua_setglobal(L, to_luastring('call'));
    const load = (src: string) => {
      if (lauxlib.luaL_loadstring(L, to_luastring(src)) !== 0) throw new Error(lua.lua_tojsstring(L, -1));
      return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    };
    const setTables = () => {
      lua.lua_createtable(L, 1, 0);
      lua.lua_pushstring(L, to_luastring('lock:1'));
      lua.lua_rawseti(L, -2, 1);
      lua.lua_setglobal(L, to_luastring('KEYS'));
      lua.lua_createtable(L, 1, 0);
      lua.lua_pushstring(L, to_luastring('token'));
      lua.lua_rawseti(L, -2, 1);
      lua.lua_setglobal(L, to_luastring('ARGV'));
    };
    const run = (ref: number) => {
      setTables();
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
      if (lua.lua_pcall(L, 0, 1, 0) !== 0) throw new Error(lua.lua_tojsstring(L, -1));
      const r = lua.lua_tonumber(L, -1);
      lua.lua_pop(L, 1);
      return r;
    };
    const startup = performance.now() - started;
    report(startup, load(SHORT), load(HEAVY), run);
  } else {
    const { LuaFactory } = require('wasmoon');
    void (async () => {
      const engine = await new LuaFactory().createEngine({ injectObjects: false, enableProxy: false });
      engine.global.set('call', (cmd: string) => (cmd === 'GET' ? 'token' : 1));
      const startup = performance.now() - started;
      const load = (src: string) => engine.doStringSync(`return function() ${src} end`);
      const run = (fn: () => number) => {
        engine.global.set('KEYS', ['lock:1']);
        engine.global.set('ARGV', ['token']);
        return fn();
      };
      report(startup, load(SHORT), load(HEAVY), run);
    })();
  }
}

function report<F>(startup: number, short: F, heavy: F, run: (f: F) => number): void {
  for (let i = 0; i < 2000; i++) run(short);
  let t = performance.now();
  for (let i = 0; i < SHORT_RUNS; i++) if (run(short) !== 1) throw new Error('wrong result');
  const shortUs = ((performance.now() - t) * 1000) / SHORT_RUNS;
  t = performance.now();
  const value = run(heavy);
  const heavyMs = performance.now() - t;
  process.stdout.write(JSON.stringify({ startup, shortUs, heavyMs, value }));
}

if (process.argv[2]) child(process.argv[2]);
else {
  console.log('| VM | start-up, ms (module load + new state) | short script with 2 host calls, µs | CPU-heavy script, ms |');
  console.log('| --- | --- | --- | --- |');
  for (const vm of ['wasmoon', 'fengari']) {
    const runs = [0, 1, 2].map(() => JSON.parse(execFileSync(process.execPath, [__filename, vm], { encoding: 'utf8' })));
    const range = (k: string, d: number) => {
      const v = runs.map((r) => r[k] as number).sort((a, b) => a - b);
      return `${v[0].toFixed(d)}–${v[v.length - 1].toFixed(d)}`;
    };
    console.log(`| ${vm} | ${range('startup', 1)} | ${range('shortUs', 1)} | ${range('heavyMs', 0)} |`);
  }
}
