/**
 * The Lua environment of Redis 7.0's scripting, on fengari (Lua 5.3 in JavaScript; why fengari:
 * BENCHMARKS.md, "Choosing the Lua VM"). Synchronous: `redis.call` asks the Host and gets the
 * reply back before the script goes on. In the server this runs on a worker thread (worker.ts)
 * whose Host blocks on Atomics.wait while the main thread runs the command; the unit tests run
 * it in-thread with a Host of their own.
 *
 * Lua 5.1 as Redis has it, on a 5.3 VM:
 *  - numbers are doubles: every numeral and string conversion gives a float (fengari's integers
 *    are 32-bit and would wrap: `now * 1000`), and integral floats print without ".0" as 5.1's
 *    `tostring(10/2) == "5"` (fengari's LUA_COMPAT_FLOATSTRING, set before fengari loads);
 *  - 5.1 names: unpack, loadstring, table.getn/setn/foreach/foreachi/maxn, math.mod/pow/log10/
 *    ldexp/frexp/cosh/sinh/tanh/atan2, string.gfind, gcinfo;
 *  - the globals of Redis 7.0 only (no io, os, require, loadfile, dofile, print, package, utf8,
 *    debug), every table reachable from _G read-only, unknown globals an error;
 *  - `load`/`loadstring` take source text only (no bytecode).
 */
// First: fengari reads its configuration when it loads.
import './fengari-config';
import fengari from 'fengari';
import lobject from 'fengari/src/lobject.js';
import lstring from 'fengari/src/lstring.js';
import { createHash } from 'node:crypto';
import { openLibraries } from './libs';
import type { FunctionInfo, HostRequest, Wire } from './wire';

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

// Every numeral in a script and every string->number conversion yields a float (Lua 5.1's
// single number type). luaO_str2num is what the lexer, tonumber and string coercion call.
if (!lobject.__respqlFloats) {
  const str2num = lobject.luaO_str2num;
  lobject.luaO_str2num = (s: Uint8Array, o: { ttisinteger(): boolean; value: number; setfltvalue(v: number): void }) => {
    const n = str2num(s, o);
    if (n !== 0 && o.ttisinteger()) o.setfltvalue(o.value);
    return n;
  };
  // Numbers print as Lua 5.1's %.14g (fengari rounds through JavaScript: 1e15 -> "1000000000000000").
  lobject.luaO_tostring = (L: unknown, obj: { ttisinteger(): boolean; value: number; setsvalue(s: unknown): void }) => {
    const text = obj.ttisinteger() ? String(obj.value) : formatG(obj.value, 14);
    obj.setsvalue(lstring.luaS_bless(L, to_luastring(text)));
  };
  lobject.__respqlFloats = true;
}

export interface Host {
  /** redis.call / redis.pcall / redis.acl_check_cmd: runs the command and returns its reply. */
  request(request: HostRequest): Wire;
  log(level: number, message: string): void;
}

export interface VmOptions {
  redisVersion: string;
}

/** An error to send back as the script's reply (compile errors, runtime errors). */
export class ScriptError extends Error {}

const L_STR = (s: string): Uint8Array => to_luastring(s);
const bytes = (b: Uint8Array): Uint8Array => (b instanceof Buffer ? new Uint8Array(b) : b);

export const sha1hex = (body: Uint8Array | string): string => createHash('sha1').update(body).digest('hex');

/** Lua source run once per state: the sandbox, Redis's error handler, 5.1 names. */
const PRELUDE = `
local real_G, debug_getinfo, rawset0, setmetatable0, getmetatable0, load0, register_function = ...
local SANDBOX
local protected = setmetatable0({}, { __mode = 'k' })
local function readonly() error('Attempt to modify a readonly table', 2) end
local function protect(t, index)
  local proxy = {}
  setmetatable0(proxy, { __index = index or t, __newindex = readonly, __metatable = {},
    __pairs = function() return next, t, nil end, __len = function() return #t end })
  protected[proxy] = true
  return proxy
end
rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset0(t, k, v)
end
setmetatable = function(t, m)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return setmetatable0(t, m)
end
-- Lua 5.1 names on the 5.3 library.
unpack = table.unpack
-- Numbers as 5.1 prints them: concatenation goes through the patched luaO_tostring.
local tostring0 = tostring
tostring = function(...)
  local v = ...
  if select('#', ...) > 0 and type(v) == 'number' then return v .. '' end
  return tostring0(...)
end
local function load_text(chunk, name)
  if type(chunk) == 'string' then return load0(chunk, name, 't', SANDBOX) end
  return load0(chunk, name, 't', SANDBOX)
end
loadstring = load_text
load = load_text
gcinfo = function() return math.floor(collectgarbage('count')) end
table.getn = function(t) return #t end
table.setn = function() error('setn is obsolete', 2) end
table.maxn = function(t) local m = 0 for k in pairs(t) do if type(k) == 'number' and k > m then m = k end end return m end
table.foreach = function(t, f) for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end end
table.foreachi = function(t, f) for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end end
math.mod = math.fmod
math.pow = function(a, b) return a ^ b end
math.log10 = function(x) return math.log(x, 10) end
math.atan2 = function(y, x) return math.atan(y, x) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = math.floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m = m / 2; e = e + 1 elseif math.abs(m) < 0.5 then m = m * 2; e = e - 1 end
  return m, e
end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
math.tointeger, math.type, math.ult, math.maxinteger, math.mininteger = nil, nil, nil, nil, nil
string.gfind = string.gmatch
string.pack, string.unpack, string.packsize = nil, nil, nil
table.pack, table.unpack, table.move = nil, nil, nil
-- Redis's error handler (eval.c): every error becomes {err=..., source=..., line=...}.
local function handler(err)
  -- The script's line: past JavaScript functions and the sandbox's own (Redis's are C).
  local level = 2
  local i = debug_getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.what == 'J' or i.source == '=prelude') do
    level = level + 1
    i = debug_getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if i then
    rawset0(err, 'source', i.source)
    rawset0(err, 'line', i.currentline)
  end
  return err
end
-- The globals of Redis 7.0 and nothing else.
local allowed = { 'assert', 'collectgarbage', 'coroutine', 'error', 'gcinfo', 'getmetatable', 'ipairs', 'load',
  'loadstring', 'math', 'next', 'pairs', 'pcall', 'rawequal', 'rawget', 'rawset', 'select', 'setmetatable', 'string',
  'table', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall', 'redis', 'cjson', 'cmsgpack', 'bit', 'struct', '_VERSION' }
local G = {}
for _, name in ipairs(allowed) do
  local v = real_G[name]
  if type(v) == 'table' then v = protect(v) end
  G[name] = v
end
G._VERSION = 'Lua 5.1'
G.__redis__err__handler = handler
local string_proxy = G.string
local smeta = getmetatable0('')
smeta.__index = string_proxy
smeta.__metatable = {}
-- KEYS and ARGV are set per run (they are not read-only, as in Redis).
local per_run = {}
local env = {}
setmetatable0(env, { __index = function(_, k)
    local v = G[k]
    if v ~= nil then return v end
    v = per_run[k]
    if v ~= nil then return v end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function(t, k, v)
    if k == 'KEYS' or k == 'ARGV' then per_run[k] = v return end
    error('Attempt to modify a readonly table', 2)
  end,
  __metatable = {}, __pairs = function()
    local merged = {} for k, v in next, G do merged[k] = v end for k, v in next, per_run do merged[k] = v end
    merged._G = env
    return next, merged, nil
  end })
protected[env] = true
G._G = env
SANDBOX = env
-- Function libraries (FUNCTION LOAD) run in the same sandbox, where redis also has
-- register_function; their functions keep this environment.
local lib_redis = setmetatable0({ register_function = register_function }, { __index = G.redis,
  __newindex = readonly, __metatable = {} })
protected[lib_redis] = true
local lib_env = setmetatable0({}, { __index = function(_, k)
    if k == 'redis' then return lib_redis end
    local v = G[k]
    if v ~= nil then return v end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end, __newindex = function() error('Attempt to modify a readonly table', 2) end, __metatable = {} })
protected[lib_env] = true
return env, handler, per_run, lib_env
`;

interface Compiled {
  ref: number;
}

interface LibraryFunction extends FunctionInfo {
  ref: number;
  library: string;
}

/** One Lua state with Redis's environment; scripts and function libraries live in it. */
export class LuaVm {
  private readonly L: any;
  private envRef = 0;
  private handlerRef = 0;
  private perRunRef = 0;
  private libEnvRef = 0;
  private readonly scripts = new Map<string, Compiled>();
  private readonly functions = new Map<string, LibraryFunction>();
  private readonly libraries = new Map<string, { code: Uint8Array; functions: string[] }>();
  /** The protocol replies are converted from (redis.setresp), reset for each run. */
  resp: 2 | 3 = 2;
  private randomState = 0n;
  /** While a library loads: where redis.register_function puts what it declares. */
  private registering: LibraryFunction[] | null = null;

  constructor(
    private readonly host: Host,
    private readonly options: VmOptions,
  ) {
    const L = (this.L = lauxlib.luaL_newstate());
    // Only these libraries: no io, os, package (require loads JavaScript), utf8.
    for (const [name, open] of [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
      ['coroutine', lualib.luaopen_coroutine],
      ['debug', lualib.luaopen_debug],
    ] as const) {
      lauxlib.luaL_requiref(L, L_STR(name), open, 1);
      lua.lua_pop(L, 1);
    }
    this.installRedis();
    openLibraries(L);
    this.installRandom();
    // prelude(real_G, debug.getinfo, rawset, setmetatable, getmetatable, load)
    if (lauxlib.luaL_loadbufferx(L, L_STR(PRELUDE), null, L_STR('=prelude'), L_STR('t')) !== 0) throw new Error(this.popString());
    lua.lua_pushglobaltable(L);
    lua.lua_getglobal(L, L_STR('debug'));
    lua.lua_getfield(L, -1, L_STR('getinfo'));
    lua.lua_remove(L, -2);
    for (const name of ['rawset', 'setmetatable', 'getmetatable', 'load']) lua.lua_getglobal(L, L_STR(name));
    lua.lua_pushcfunction(L, (L: any) => this.registerFunction(L));
    if (lua.lua_pcall(L, 7, 4, 0) !== 0) throw new Error(this.popString());
    this.libEnvRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.perRunRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.handlerRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.envRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  private popString(): string {
    const s = lua.lua_tojsstring(this.L, -1);
    lua.lua_pop(this.L, 1);
    return s;
  }

  // ---- scripts (EVAL) -------------------------------------------------------------------

  has(sha: string): boolean {
    return this.scripts.has(sha);
  }

  /** Compiles a script body under its sha; throws ScriptError with Redis's text. */
  compile(sha: string, body: Uint8Array): void {
    if (this.scripts.has(sha)) return;
    // A `#!lua ...` first line (checked by the caller) is not Lua: blank it, keeping line numbers.
    if (body[0] === 0x23 && body[1] === 0x21) {
      const nl = body.indexOf(0x0a);
      body = nl < 0 ? new Uint8Array(0) : body.subarray(nl);
    }
    const ref = this.load(body, '@user_script', (msg) => `ERR Error compiling script (new function): ${as51(msg)}`);
    this.scripts.set(sha, { ref });
  }

  /** Loads a chunk with the sandbox as its environment; returns a registry reference. */
  private load(body: Uint8Array, chunkName: string, error: (msg: string) => string): number {
    const L = this.L;
    if (lauxlib.luaL_loadbufferx(L, bytes(body), null, L_STR(chunkName), L_STR('t')) !== 0) throw new ScriptError(error(this.popString()));
    // Its first upvalue is _ENV: the sandbox instead of the real globals.
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.envRef);
    lua.lua_setupvalue(L, -2, 1);
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  flush(): void {
    for (const { ref } of this.scripts.values()) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
    this.scripts.clear();
  }

  /** Runs a compiled script: its reply, or an error reply with Redis's text. */
  run(sha: string, keys: Uint8Array[], args: Uint8Array[], readOnly: boolean): Wire {
    const script = this.scripts.get(sha);
    if (!script) return { t: 'err', m: 'NOSCRIPT No matching script. Please use EVAL.' };
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.perRunRef);
    this.pushArray(keys);
    lua.lua_setfield(L, -2, L_STR('KEYS'));
    this.pushArray(args);
    lua.lua_setfield(L, -2, L_STR('ARGV'));
    lua.lua_pop(L, 1);
    return this.invoke(script.ref, sha, 0, readOnly);
  }

  /** Calls the function at `ref` with `nargs` arguments already pushed above it (pushed after). */
  private invoke(ref: number, name: string, nargs: number, readOnly: boolean, pushArgs?: () => void): Wire {
    const L = this.L;
    this.resp = 2;
    void readOnly;
    // Redis 7 replicates effects, not scripts: math.random need not repeat from run to run.
    this.randomState = (BigInt(Math.floor(Math.random() * 2 ** 32)) << 16n) | 0x330en;
    const base = lua.lua_gettop(L);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.handlerRef);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    pushArgs?.();
    let status: number;
    try {
      status = lua.lua_pcall(L, nargs, 1, base + 1);
    } catch (err) {
      // A JavaScript error inside the VM (stack exhausted): the state is not to be trusted.
      lua.lua_settop(L, base);
      throw err;
    }
    try {
      if (status !== 0) return this.errorReply(name);
      return this.toWire(-1, 0);
    } finally {
      lua.lua_settop(L, base);
      // Between runs the per-run globals are gone (Redis resets KEYS/ARGV too).
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.perRunRef);
      lua.lua_pushnil(L);
      lua.lua_setfield(L, -2, L_STR('KEYS'));
      lua.lua_pushnil(L);
      lua.lua_setfield(L, -2, L_STR('ARGV'));
      lua.lua_settop(L, base);
    }
  }

  /** The error object on the stack top as Redis 7.0 words it (eval.c, luaCallFunction). */
  private errorReply(name: string): Wire {
    const L = this.L;
    if (!lua.lua_istable(L, -1)) {
      const msg = lua.lua_isstring(L, -1) ? lua.lua_tojsstring(L, -1) : 'execution failure';
      return { t: 'err', m: `ERR Error running script ${name}, ${msg.slice(0, 100)}` };
    }
    const field = (k: string): string | null => {
      lua.lua_getfield(L, -1, L_STR(k));
      const v = lua.lua_isstring(L, -1) ? lua.lua_tojsstring(L, -1) : null;
      lua.lua_pop(L, 1);
      return v;
    };
    const err = as51(field('err') ?? '');
    const source = field('source');
    const line = field('line');
    let m = err;
    if (source && line) m += ` script: ${name}, on ${source}:${line}.`;
    return { t: 'err', m };
  }

  // ---- functions (FUNCTION LOAD / FCALL) ----------------------------------------------

  /**
   * Loads a library (`#!lua name=<lib>` then code calling redis.register_function). With
   * `check`, only validates it and leaves nothing behind.
   */
  loadLibrary(code: Uint8Array, replace: boolean, check = false): { library: string; functions: FunctionInfo[] } {
    const text = Buffer.from(code).toString('latin1');
    const nl = text.indexOf('\n');
    const first = nl < 0 ? text : text.slice(0, nl);
    if (!first.startsWith('#!')) throw new ScriptError('ERR Missing library metadata');
    const parts = first.slice(2).split(' ').filter(Boolean);
    const engine = parts.shift() ?? '';
    if (engine.toLowerCase() !== 'lua') throw new ScriptError(`ERR Engine '${engine}' not found`);
    let library: string | null = null;
    for (const p of parts) {
      if (!p.startsWith('name=')) throw new ScriptError(`ERR Invalid metadata value given: ${p}`);
      library = p.slice(5);
    }
    if (library === null) throw new ScriptError('ERR Library name was not given');
    if (!/^[A-Za-z0-9_]+$/.test(library))
      throw new ScriptError(
        'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long',
      );
    const existing = this.libraries.get(library);
    if (existing && !replace) throw new ScriptError(`ERR Library '${library}' already exists`);
    const body = code.subarray(nl < 0 ? code.length : nl);
    const L = this.L;
    if (lauxlib.luaL_loadbufferx(L, bytes(body), null, L_STR('@user_function'), L_STR('t')) !== 0) {
      throw new ScriptError(`ERR Error compiling function: ${this.popString()}`);
    }
    // The library runs in the scripts' sandbox plus redis.register_function (working only now).
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.libEnvRef);
    lua.lua_setupvalue(L, -2, 1);
    this.registering = [];
    const base = lua.lua_gettop(L) - 1;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.handlerRef);
    lua.lua_insert(L, -2);
    const status = lua.lua_pcall(L, 0, 0, base + 1);
    const registered = this.registering;
    this.registering = null;
    if (status !== 0) {
      const reply = this.errorReply('');
      lua.lua_settop(L, base);
      for (const f of registered) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, f.ref);
      const m = (reply as { m: string }).m.replace(/ script: , on .*$/, '');
      throw new ScriptError(`ERR Error registering functions: ${m.replace(/^ERR /, '')}`);
    }
    lua.lua_settop(L, base);
    const fail = (msg: string): never => {
      for (const f of registered) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, f.ref);
      throw new ScriptError(msg);
    };
    if (!registered.length) fail('ERR No functions registered');
    for (const f of registered) {
      f.library = library;
      const other = this.functions.get(f.name);
      if (other && other.library !== library) fail(`ERR Function ${f.name} already exists`);
    }
    const functions = registered.map(({ name, description, flags }) => ({ name, description, flags }));
    if (check) {
      for (const f of registered) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, f.ref);
      return { library, functions };
    }
    if (existing) this.deleteLibrary(library);
    for (const f of registered) this.functions.set(f.name, f);
    this.libraries.set(library, { code: new Uint8Array(code), functions: registered.map((f) => f.name) });
    return { library, functions };
  }

  deleteLibrary(library: string): boolean {
    const lib = this.libraries.get(library);
    if (!lib) return false;
    for (const name of lib.functions) {
      const f = this.functions.get(name);
      if (f) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, f.ref);
      this.functions.delete(name);
    }
    this.libraries.delete(library);
    return true;
  }

  flushFunctions(): void {
    for (const name of [...this.libraries.keys()]) this.deleteLibrary(name);
  }

  hasFunction(name: string): boolean {
    return this.functions.has(name);
  }

  /** FCALL: the function gets KEYS and ARGV as its two arguments. */
  callFunction(name: string, keys: Uint8Array[], args: Uint8Array[], readOnly: boolean): Wire {
    const f = this.functions.get(name);
    if (!f) return { t: 'err', m: 'ERR Function not found' };
    return this.invoke(f.ref, name, 2, readOnly, () => {
      this.pushArray(keys);
      this.pushArray(args);
    });
  }

  // ---- the redis table ----------------------------------------------------------------

  private installRedis(): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 32);
    const fn = (name: string, f: (L: any) => number) => {
      lua.lua_pushcfunction(L, f);
      lua.lua_setfield(L, -2, L_STR(name));
    };
    const int = (name: string, v: number) => {
      lua.lua_pushnumber(L, v);
      lua.lua_setfield(L, -2, L_STR(name));
    };
    fn('call', (L) => this.redisCall(L, true));
    fn('pcall', (L) => this.redisCall(L, false));
    fn('error_reply', (L) => {
      if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.raise(L, 'ERR wrong number or type of arguments');
      let m = lua.lua_tojsstring(L, 1) as string;
      if (m.startsWith('-')) m = m.slice(1);
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushstring(L, L_STR(m));
      lua.lua_setfield(L, -2, L_STR('err'));
      return 1;
    });
    fn('status_reply', (L) => {
      if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.raise(L, 'ERR wrong number or type of arguments');
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushvalue(L, 1);
      lua.lua_setfield(L, -2, L_STR('ok'));
      return 1;
    });
    fn('sha1hex', (L) => {
      if (lua.lua_gettop(L) !== 1) return this.raise(L, 'ERR wrong number of arguments');
      const s = lua.lua_tolstring(L, 1) ?? new Uint8Array(0);
      lua.lua_pushstring(L, L_STR(sha1hex(s)));
      return 1;
    });
    fn('log', (L) => {
      const argc = lua.lua_gettop(L);
      if (argc < 2) return this.raise(L, 'ERR redis.log() requires two arguments or more.');
      if (!lua.lua_isnumber(L, 1)) return this.raise(L, 'ERR First argument must be a number (log level).');
      const level = lua.lua_tonumber(L, 1);
      if (level < 0 || level > 3) return this.raise(L, 'ERR Invalid debug level.');
      const parts: string[] = [];
      for (let i = 2; i <= argc; i++) parts.push(lua.lua_isstring(L, i) ? Buffer.from(lua.lua_tolstring(L, i)).toString('utf8') : '');
      this.host.log(level, parts.join(' '));
      return 0;
    });
    fn('setresp', (L) => {
      if (lua.lua_gettop(L) !== 1) return this.raise(L, 'ERR redis.setresp() requires one argument.');
      const v = lua.lua_tonumber(L, 1);
      if (v !== 2 && v !== 3) return this.raise(L, 'ERR RESP version must be 2 or 3.');
      this.resp = v;
      return 0;
    });
    // Redis 7 always replicates effects: these remain for old scripts and do nothing.
    fn('set_repl', (L) => {
      if (lua.lua_gettop(L) !== 1) return this.raise(L, 'ERR redis.set_repl() requires one argument.');
      const v = lua.lua_tonumber(L, 1);
      if (!(v >= 0 && v <= 3)) return this.raise(L, 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
      return 0;
    });
    fn('replicate_commands', (L) => {
      lua.lua_pushboolean(L, 1);
      return 1;
    });
    fn('breakpoint', (L) => {
      lua.lua_pushboolean(L, 0);
      return 1;
    });
    fn('debug', () => 0);
    fn('acl_check_cmd', (L) => {
      const argv = this.argv(L);
      if (!argv) return this.raise(L, 'ERR Please specify at least one argument for this redis lib call');
      const reply = this.host.request({ kind: 'acl', argv });
      if (reply !== null && typeof reply === 'object' && 't' in reply && reply.t === 'err') return this.raise(L, reply.m);
      lua.lua_pushboolean(L, reply ? 1 : 0);
      return 1;
    });
    lua.lua_pushstring(L, L_STR(this.options.redisVersion));
    lua.lua_setfield(L, -2, L_STR('REDIS_VERSION'));
    const [maj, min, patch] = this.options.redisVersion.split('.').map(Number);
    int('REDIS_VERSION_NUM', (maj << 16) | (min << 8) | patch);
    int('REPL_NONE', 0);
    int('REPL_AOF', 1);
    int('REPL_SLAVE', 2);
    int('REPL_REPLICA', 2);
    int('REPL_ALL', 3);
    int('LOG_DEBUG', 0);
    int('LOG_VERBOSE', 1);
    int('LOG_NOTICE', 2);
    int('LOG_WARNING', 3);
    lua.lua_setglobal(L, L_STR('redis'));
  }

  /** Raises {err = message} (what redis.call does with an error reply). */
  private raise(L: any, message: string): never {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, L_STR(message));
    lua.lua_setfield(L, -2, L_STR('err'));
    lua.lua_error(L);
    throw new Error('unreachable: lua_error throws');
  }

  /** The arguments of redis.call as byte strings (numbers as %.17g), or null when there are none. */
  private argv(L: any): Uint8Array[] | null {
    const argc = lua.lua_gettop(L);
    if (argc === 0) return null;
    const argv: Uint8Array[] = [];
    for (let i = 1; i <= argc; i++) {
      const t = lua.lua_type(L, i);
      if (t === lua.LUA_TNUMBER) argv.push(L_STR(formatG(lua.lua_tonumber(L, i), 17)));
      else if (t === lua.LUA_TSTRING) argv.push(lua.lua_tolstring(L, i));
      else return this.raise(L, 'ERR Lua redis lib command arguments must be strings or integers');
    }
    return argv;
  }

  private redisCall(L: any, raise: boolean): number {
    const argc = lua.lua_gettop(L);
    if (argc === 0) return this.raise(L, 'ERR Please specify at least one argument for this redis lib call');
    const argv = this.argv(L)!;
    if (this.registering) return this.raise(L, 'ERR redis.call and redis.pcall can not be called while a library loads');
    const reply = this.host.request({ kind: 'call', argv, resp: this.resp });
    if (raise && reply !== null && typeof reply === 'object' && 't' in reply && reply.t === 'err') return this.raise(L, reply.m);
    this.pushReply(reply);
    return 1;
  }

  /** A reply of redis.call as a Lua value, as Redis 7.0 converts it (script_lua.c). */
  private pushReply(reply: Wire): void {
    const L = this.L;
    const resp3 = this.resp === 3;
    if (reply === null) return resp3 ? lua.lua_pushnil(L) : lua.lua_pushboolean(L, 0);
    if (reply instanceof Uint8Array) return lua.lua_pushstring(L, bytes(reply));
    if (typeof reply === 'number') return lua.lua_pushnumber(L, reply);
    if (typeof reply === 'bigint') return lua.lua_pushnumber(L, Number(reply));
    if (Array.isArray(reply)) {
      lua.lua_createtable(L, reply.length, 0);
      reply.forEach((item, i) => {
        this.pushReply(item);
        lua.lua_rawseti(L, -2, i + 1);
      });
      return;
    }
    switch (reply.t) {
      case 'err':
      case 'status':
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushstring(L, L_STR(reply.m));
        lua.lua_setfield(L, -2, L_STR(reply.t === 'err' ? 'err' : 'ok'));
        return;
      case 'nullArray':
        return resp3 ? lua.lua_pushnil(L) : lua.lua_pushboolean(L, 0);
      case 'bool':
        return resp3 ? lua.lua_pushboolean(L, reply.v ? 1 : 0) : lua.lua_pushnumber(L, reply.v ? 1 : 0);
      case 'double':
        if (!resp3) return lua.lua_pushstring(L, L_STR(formatDoubleReply(reply.v)));
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushnumber(L, reply.v);
        lua.lua_setfield(L, -2, L_STR('double'));
        return;
      case 'map':
        if (!resp3) return this.pushReply(reply.e.flat());
        lua.lua_createtable(L, 0, 1);
        lua.lua_createtable(L, 0, reply.e.length);
        for (const [k, v] of reply.e) {
          this.pushReply(k);
          this.pushReply(v);
          lua.lua_rawset(L, -3);
        }
        lua.lua_setfield(L, -2, L_STR('map'));
        return;
      case 'set':
        if (!resp3) return this.pushReply(reply.i);
        lua.lua_createtable(L, 0, 1);
        lua.lua_createtable(L, 0, reply.i.length);
        for (const item of reply.i) {
          this.pushReply(item);
          lua.lua_pushboolean(L, 1);
          lua.lua_rawset(L, -3);
        }
        lua.lua_setfield(L, -2, L_STR('set'));
        return;
    }
  }

  private pushArray(items: Uint8Array[]): void {
    const L = this.L;
    lua.lua_createtable(L, items.length, 0);
    items.forEach((item, i) => {
      lua.lua_pushstring(L, bytes(item));
      lua.lua_rawseti(L, -2, i + 1);
    });
  }

  /** The Lua value at `idx` as a reply, as Redis 7.0 converts it (luaReplyToRedisReply). */
  private toWire(idx: number, depth: number): Wire {
    const L = this.L;
    const abs = lua.lua_absindex(L, idx);
    switch (lua.lua_type(L, abs)) {
      case lua.LUA_TSTRING:
        return Buffer.from(lua.lua_tolstring(L, abs));
      case lua.LUA_TBOOLEAN: {
        const b = lua.lua_toboolean(L, abs);
        if (this.resp === 3) return { t: 'bool', v: b };
        return b ? 1 : null;
      }
      case lua.LUA_TNUMBER:
        return toInteger(lua.lua_tonumber(L, abs));
      case lua.LUA_TTABLE: {
        if (depth > 1000) return { t: 'err', m: 'ERR reached lua stack limit' };
        const field = (name: string): number => {
          lua.lua_getfield(L, abs, L_STR(name));
          return lua.lua_type(L, -1);
        };
        if (field('err') === lua.LUA_TSTRING) {
          const m = lua.lua_tojsstring(L, -1) as string;
          lua.lua_pop(L, 1);
          return { t: 'err', m };
        }
        lua.lua_pop(L, 1);
        if (field('ok') === lua.LUA_TSTRING) {
          const m = (lua.lua_tojsstring(L, -1) as string).replace(/[\r\n]/g, ' ');
          lua.lua_pop(L, 1);
          return { t: 'status', m };
        }
        lua.lua_pop(L, 1);
        if (field('double') === lua.LUA_TNUMBER) {
          const v = lua.lua_tonumber(L, -1);
          lua.lua_pop(L, 1);
          return { t: 'double', v };
        }
        lua.lua_pop(L, 1);
        if (field('map') === lua.LUA_TTABLE) {
          const e: [Wire, Wire][] = [];
          lua.lua_pushnil(L);
          while (lua.lua_next(L, -2) !== 0) {
            const v = this.toWire(-1, depth + 1);
            const k = this.toWire(-2, depth + 1);
            e.push([k, v]);
            lua.lua_pop(L, 1);
          }
          lua.lua_pop(L, 1);
          return { t: 'map', e };
        }
        lua.lua_pop(L, 1);
        if (field('set') === lua.LUA_TTABLE) {
          const items: Wire[] = [];
          lua.lua_pushnil(L);
          while (lua.lua_next(L, -2) !== 0) {
            items.push(this.toWire(-2, depth + 1));
            lua.lua_pop(L, 1);
          }
          lua.lua_pop(L, 1);
          return { t: 'set', i: items };
        }
        lua.lua_pop(L, 1);
        const out: Wire[] = [];
        for (let j = 1; ; j++) {
          if (lua.lua_rawgeti(L, abs, j) === lua.LUA_TNIL) {
            lua.lua_pop(L, 1);
            break;
          }
          out.push(this.toWire(-1, depth + 1));
          lua.lua_pop(L, 1);
        }
        return out;
      }
      default:
        return null;
    }
  }

  private registerFunction(L: any): number {
    if (!this.registering) return this.raise(L, 'ERR redis.register_function can only be called on FUNCTION LOAD command');
    const argc = lua.lua_gettop(L);
    let name: string | null = null;
    let description: string | null = null;
    let flags: string[] = [];
    let callbackRef: number | null = null;
    if (argc === 2) {
      if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.raise(L, 'ERR wrong argument given to redis.register_function');
      name = lua.lua_tojsstring(L, 1);
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return this.raise(L, 'ERR wrong argument given to redis.register_function');
      lua.lua_pushvalue(L, 2);
      callbackRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    } else if (argc === 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
      lua.lua_pushnil(L);
      while (lua.lua_next(L, 1) !== 0) {
        if (lua.lua_type(L, -2) !== lua.LUA_TSTRING)
          return this.raise(L, 'ERR named argument key given to redis.register_function is not a string');
        const key = lua.lua_tojsstring(L, -2) as string;
        if (key === 'function_name') {
          if (lua.lua_type(L, -1) !== lua.LUA_TSTRING)
            return this.raise(L, 'ERR function_name argument given to redis.register_function must be a string');
          name = lua.lua_tojsstring(L, -1);
        } else if (key === 'description') {
          if (lua.lua_type(L, -1) !== lua.LUA_TSTRING)
            return this.raise(L, 'ERR description argument given to redis.register_function must be a string');
          description = lua.lua_tojsstring(L, -1);
        } else if (key === 'callback') {
          if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION)
            return this.raise(L, 'ERR callback argument given to redis.register_function must be a function');
          lua.lua_pushvalue(L, -1);
          callbackRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
        } else if (key === 'flags') {
          if (lua.lua_type(L, -1) !== lua.LUA_TTABLE)
            return this.raise(L, 'ERR flags argument to redis.register_function must be a table representing function flags');
          flags = [];
          for (let j = 1; lua.lua_rawgeti(L, -1, j) !== lua.LUA_TNIL; j++) {
            const f = lua.lua_isstring(L, -1) ? (lua.lua_tojsstring(L, -1) as string) : '';
            lua.lua_pop(L, 1);
            if (!['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'].includes(f))
              return this.raise(L, 'ERR unknown flag given');
            flags.push(f);
          }
          lua.lua_pop(L, 1);
        } else return this.raise(L, 'ERR unknown argument given to redis.register_function');
        lua.lua_pop(L, 1);
      }
      if (!name) return this.raise(L, 'ERR redis.register_function must get a function name argument');
      if (callbackRef === null) return this.raise(L, 'ERR redis.register_function must get a callback argument');
    } else return this.raise(L, 'ERR wrong number of arguments to redis.register_function');
    const ref = callbackRef!;
    const drop = (msg: string): never => (lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, ref), this.raise(L, msg));
    if (!/^[A-Za-z0-9_]+$/.test(name!))
      return drop('ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long');
    if (this.registering.some((f) => f.name === name)) return drop('ERR Function already exists in the library');
    this.registering.push({ name: name!, description, flags, ref, library: '' });
    return 0;
  }

  private installRandom(): void {
    const L = this.L;
    // Redis's deterministic math.random (redisLrand48, reseeded with 0 before each script).
    const next = (): number => {
      this.randomState = (0x5deece66dn * this.randomState + 0xbn) & 0xffffffffffffn;
      const r = Number(this.randomState >> 17n);
      return (r % 2147483647) / 2147483647;
    };
    lua.lua_getglobal(L, L_STR('math'));
    lua.lua_pushcfunction(L, (L: any) => {
      const r = next();
      const argc = lua.lua_gettop(L);
      if (argc === 0) lua.lua_pushnumber(L, r);
      else if (argc === 1) {
        const u = lauxlib.luaL_checknumber(L, 1);
        if (!(1 <= u)) return lauxlib.luaL_argerror(L, 1, L_STR('interval is empty'));
        lua.lua_pushnumber(L, Math.floor(r * u) + 1);
      } else if (argc === 2) {
        const l = lauxlib.luaL_checknumber(L, 1);
        const u = lauxlib.luaL_checknumber(L, 2);
        if (!(l <= u)) return lauxlib.luaL_argerror(L, 2, L_STR('interval is empty'));
        lua.lua_pushnumber(L, Math.floor(r * (u - l + 1)) + l);
      } else return this.raise(L, 'ERR wrong number of arguments');
      return 1;
    });
    lua.lua_setfield(L, -2, L_STR('random'));
    lua.lua_pushcfunction(L, (L: any) => {
      this.randomState = (BigInt(Math.trunc(lauxlib.luaL_checknumber(L, 1))) << 16n) | 0x330en;
      return 0;
    });
    lua.lua_setfield(L, -2, L_STR('randomseed'));
    lua.lua_pop(L, 1);
  }
}

/**
 * Lua 5.3's wording of parser and runtime errors as Lua 5.1 words them, where they differ in
 * form only: quoted tokens, "syntax error" for a missing '=', and the variable named before
 * the type ("attempt to call global 'f' (a nil value)").
 */
export function as51(message: string): string {
  return message
    .replace(/ near <eof>/g, " near '<eof>'")
    .replace(/(^|: )<(name|eof)> expected/g, "$1'<$2>' expected")
    .replace(/: syntax error near /, ": '=' expected near ")
    .replace(
      /attempt to ([\w ]+?) an? (\w+) value \((global|local|field|upvalue|method) '([^']*)'\)/g,
      "attempt to $1 $3 '$4' (a $2 value)",
    )
    .replace(/(attempt to [\w ]+? an? \w+ value) \((constant|for iterator) '[^']*'\)/g, '$1');
}

/** A Lua number as Redis returns it: truncated to a 64-bit integer, LLONG_MIN when out of range. */
export function toInteger(n: number): number | bigint {
  if (!Number.isFinite(n) || Math.abs(n) >= 9223372036854775808) return -9223372036854775808n;
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

/** C's %.<p>g. */
export function formatG(n: number, precision: number): string {
  // JavaScript cannot tell a NaN's sign; 0/0, the usual source, is -nan on x86.
  if (Number.isNaN(n)) return '-nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  // toExponential rounds to the precision first, so its exponent is the one %g decides with.
  const [m, e] = n.toExponential(precision - 1).split('e');
  let mant = m;
  const x = Number(e);
  if (x < -4 || x >= precision) {
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    return `${mant}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  }
  let s = n.toFixed(Math.max(0, precision - 1 - x));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** A double reply as RESP2 sends it (a bulk string, what the encoder writes). */
function formatDoubleReply(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isNaN(v)) return 'nan';
  return String(v);
}

export { to_jsstring };
