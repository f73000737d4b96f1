/**
 * The libraries Redis 7.0 gives scripts besides Lua's own, written against fengari's C-like API:
 * cjson (lua-cjson 2.1 as Redis vendors it), cmsgpack (lua-cmsgpack 0.4), bit (LuaBitOp 1.0),
 * struct (Roberto Ierusalimschy's struct). Their behaviour follows those C sources; the texts of
 * the rarer errors may differ.
 */
import fengari from 'fengari';

const { lua, lauxlib, to_luastring } = fengari;
const S = (s: string): Uint8Array => to_luastring(s);

type Fn = (L: any) => number;

function newLib(L: any, name: string, fns: Record<string, Fn>, extra?: (L: any) => void): void {
  lua.lua_createtable(L, 0, Object.keys(fns).length + 4);
  for (const [k, f] of Object.entries(fns)) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, S(k));
  }
  extra?.(L);
  lua.lua_setglobal(L, S(name));
}

export function openLibraries(L: any): void {
  openBit(L);
  openCjson(L);
  openCmsgpack(L);
  openStruct(L);
}

// ---- bit ------------------------------------------------------------------------------------

/** LuaBitOp's conversion: a number to a 32-bit integer (modulo 2^32, then signed). */
function tobit(L: any, i: number): number {
  const n = lauxlib.luaL_checknumber(L, i);
  // Like LuaBitOp (it adds 2^52+2^51 and takes the low word): round to nearest, then wrap.
  const r = Math.round(n);
  return Number(BigInt.asIntN(32, BigInt(Number.isFinite(r) ? r : 0)));
}

function openBit(L: any): void {
  const ret = (L: any, v: number) => (lua.lua_pushnumber(L, v | 0), 1);
  const fold =
    (op: (a: number, b: number) => number): Fn =>
    (L) => {
      let v = tobit(L, 1);
      for (let i = lua.lua_gettop(L); i > 1; i--) v = op(v, tobit(L, i));
      return ret(L, v);
    };
  newLib(L, 'bit', {
    tobit: (L) => ret(L, tobit(L, 1)),
    bnot: (L) => ret(L, ~tobit(L, 1)),
    band: fold((a, b) => a & b),
    bor: fold((a, b) => a | b),
    bxor: fold((a, b) => a ^ b),
    lshift: (L) => ret(L, tobit(L, 1) << (tobit(L, 2) & 31)),
    rshift: (L) => ret(L, tobit(L, 1) >>> (tobit(L, 2) & 31)),
    arshift: (L) => ret(L, tobit(L, 1) >> (tobit(L, 2) & 31)),
    rol: (L) => {
      const b = tobit(L, 1);
      const n = tobit(L, 2) & 31;
      return ret(L, (b << n) | (b >>> (32 - n)));
    },
    ror: (L) => {
      const b = tobit(L, 1);
      const n = tobit(L, 2) & 31;
      return ret(L, (b >>> n) | (b << (32 - n)));
    },
    bswap: (L) => {
      const b = tobit(L, 1);
      return ret(L, (b >>> 24) | ((b >> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24) | 0);
    },
    tohex: (L) => {
      let b = tobit(L, 1);
      let n = lua.lua_isnoneornil(L, 2) ? 8 : tobit(L, 2);
      const upper = n < 0;
      if (upper) n = -n;
      if (n > 8) n = 8;
      let s = '';
      for (let i = 0; i < n; i++) {
        s = '0123456789abcdef'[b & 15] + s;
        b >>>= 4;
      }
      lua.lua_pushstring(L, S(upper ? s.toUpperCase() : s));
      return 1;
    },
  });
}

// ---- cjson ----------------------------------------------------------------------------------

const NULL = { cjsonNull: true };

/** lua-cjson's number format: %.14g. */
function fmt14(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const s = n.toPrecision(14);
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    const mm = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const x = Number(e);
    return `${mm}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  }
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function jsonString(b: Uint8Array, out: number[]): void {
  out.push(0x22);
  for (const c of b) {
    if (c === 0x22) out.push(0x5c, 0x22);
    else if (c === 0x5c) out.push(0x5c, 0x5c);
    else if (c === 0x2f) out.push(0x5c, 0x2f);
    else if (c === 0x08) out.push(0x5c, 0x62);
    else if (c === 0x0c) out.push(0x5c, 0x66);
    else if (c === 0x0a) out.push(0x5c, 0x6e);
    else if (c === 0x0d) out.push(0x5c, 0x72);
    else if (c === 0x09) out.push(0x5c, 0x74);
    else if (c < 0x20 || c === 0x7f) for (const ch of `\\u${c.toString(16).padStart(4, '0')}`) out.push(ch.charCodeAt(0));
    else out.push(c);
  }
  out.push(0x22);
}

function ascii(out: number[], s: string): void {
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

function encodeJson(L: any, idx: number, depth: number, out: number[]): void {
  const t = lua.lua_type(L, idx);
  switch (t) {
    case lua.LUA_TSTRING:
      return jsonString(lua.lua_tolstring(L, idx), out);
    case lua.LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, idx);
      if (!Number.isFinite(n)) lauxlib.luaL_error(L, S('Cannot serialise number: must not be NaN or Inf'));
      return ascii(out, fmt14(n));
    }
    case lua.LUA_TBOOLEAN:
      return ascii(out, lua.lua_toboolean(L, idx) ? 'true' : 'false');
    case lua.LUA_TNIL:
      return ascii(out, 'null');
    case lua.LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, idx) === NULL) return ascii(out, 'null');
      break;
    case lua.LUA_TTABLE: {
      if (depth > 1000) lauxlib.luaL_error(L, S(`Cannot serialise, excessive nesting (${depth})`));
      const abs = lua.lua_absindex(L, idx);
      // An array when every key is a positive integer and it is not excessively sparse.
      let max = 0;
      let items = 0;
      let array = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, abs) !== 0) {
        lua.lua_pop(L, 1);
        if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
          const k = lua.lua_tonumber(L, -1);
          if (Number.isInteger(k) && k >= 1) {
            max = Math.max(max, k);
            items++;
            continue;
          }
        }
        array = false;
      }
      if (array && max > 10 && max > items * 2) lauxlib.luaL_error(L, S('Cannot serialise table: excessively sparse array'));
      if (array && max > 0) {
        out.push(0x5b);
        for (let i = 1; i <= max; i++) {
          if (i > 1) out.push(0x2c);
          lua.lua_rawgeti(L, abs, i);
          encodeJson(L, -1, depth + 1, out);
          lua.lua_pop(L, 1);
        }
        out.push(0x5d);
        return;
      }
      out.push(0x7b);
      let first = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, abs) !== 0) {
        if (!first) out.push(0x2c);
        first = false;
        const kt = lua.lua_type(L, -2);
        if (kt === lua.LUA_TSTRING) jsonString(lua.lua_tolstring(L, -2), out);
        else if (kt === lua.LUA_TNUMBER) {
          out.push(0x22);
          ascii(out, fmt14(lua.lua_tonumber(L, -2)));
          out.push(0x22);
        } else lauxlib.luaL_error(L, S('Cannot serialise table: table key must be a number or string'));
        out.push(0x3a);
        encodeJson(L, -1, depth + 1, out);
        lua.lua_pop(L, 1);
      }
      out.push(0x7d);
      return;
    }
  }
  lauxlib.luaL_error(
    L,
    S(`Cannot serialise ${lua.lua_typename(L, t) ? fengari.to_jsstring(lua.lua_typename(L, t)) : 'value'}: type not supported`),
  );
}

function pushJson(L: any, v: unknown, depth: number): void {
  if (depth > 1000) lauxlib.luaL_error(L, S('Found too many nested data structures (1001) at character 1'));
  if (v === null) return lua.lua_pushlightuserdata(L, NULL);
  if (typeof v === 'string') return lua.lua_pushstring(L, Buffer.from(v, 'utf8'));
  if (typeof v === 'number') return lua.lua_pushnumber(L, v);
  if (typeof v === 'boolean') return lua.lua_pushboolean(L, v ? 1 : 0);
  if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      pushJson(L, item, depth + 1);
      lua.lua_rawseti(L, -2, i + 1);
    });
    return;
  }
  const entries = Object.entries(v as object);
  lua.lua_createtable(L, 0, entries.length);
  for (const [k, item] of entries) {
    lua.lua_pushstring(L, Buffer.from(k, 'utf8'));
    pushJson(L, item, depth + 1);
    lua.lua_rawset(L, -3);
  }
}

function openCjson(L: any): void {
  const decode: Fn = (L) => {
    if (lua.lua_gettop(L) !== 1) return lauxlib.luaL_argerror(L, 1, S('expected 1 argument'));
    const text = Buffer.from(lauxlib.luaL_checklstring(L, 1)).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // lua-cjson's wording for the common case; the character position is not reproduced.
      return lauxlib.luaL_error(
        L,
        S(text.trim() === '' ? 'Expected value but found T_END at character 1' : 'Expected value but found invalid token at character 1'),
      );
    }
    pushJson(L, value, 0);
    return 1;
  };
  const encode: Fn = (L) => {
    if (lua.lua_gettop(L) !== 1) return lauxlib.luaL_argerror(L, 1, S('expected 1 argument'));
    const out: number[] = [];
    encodeJson(L, 1, 1, out);
    lua.lua_pushstring(L, Uint8Array.from(out));
    return 1;
  };
  const setting =
    (value: number | boolean | string): Fn =>
    (L) => {
      if (typeof value === 'boolean') lua.lua_pushboolean(L, value ? 1 : 0);
      else if (typeof value === 'number') lua.lua_pushnumber(L, value);
      else lua.lua_pushstring(L, S(value));
      return 1;
    };
  const fns: Record<string, Fn> = {
    encode,
    decode,
    encode_sparse_array: (L) => (lua.lua_pushboolean(L, 0), lua.lua_pushnumber(L, 2), lua.lua_pushnumber(L, 10), 3),
    encode_max_depth: setting(1000),
    decode_max_depth: setting(1000),
    encode_number_precision: setting(14),
    encode_keep_buffer: setting(true),
    encode_invalid_numbers: setting(false),
    decode_invalid_numbers: setting(true),
  };
  newLib(L, 'cjson', { ...fns, new: (L) => (openCjsonTable(L, fns), 1) }, (L) => {
    lua.lua_pushlightuserdata(L, NULL);
    lua.lua_setfield(L, -2, S('null'));
    lua.lua_pushstring(L, S('cjson'));
    lua.lua_setfield(L, -2, S('_NAME'));
    lua.lua_pushstring(L, S('2.1.0'));
    lua.lua_setfield(L, -2, S('_VERSION'));
  });
}

function openCjsonTable(L: any, fns: Record<string, Fn>): void {
  lua.lua_createtable(L, 0, Object.keys(fns).length + 1);
  for (const [k, f] of Object.entries(fns)) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, S(k));
  }
  lua.lua_pushlightuserdata(L, NULL);
  lua.lua_setfield(L, -2, S('null'));
}

// ---- cmsgpack -------------------------------------------------------------------------------

class Bytes {
  buf = Buffer.alloc(64);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(...v: number[]): void {
    this.ensure(v.length);
    for (const b of v) this.buf[this.len++] = b & 0xff;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  take(): Uint8Array {
    return Uint8Array.from(this.buf.subarray(0, this.len));
  }
}

function packNumber(out: Bytes, n: number): void {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) {
    if (n >= 0) {
      if (n <= 127) return out.u8(n);
      if (n <= 0xff) return out.u8(0xcc, n);
      if (n <= 0xffff) return out.u8(0xcd, n >> 8, n);
      if (n <= 0xffffffff) return out.u8(0xce, n >>> 24, n >>> 16, n >>> 8, n);
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      out.u8(0xcf);
      return out.raw(b);
    }
    if (n >= -32) return out.u8(n);
    if (n >= -128) return out.u8(0xd0, n);
    if (n >= -32768) return out.u8(0xd1, n >> 8, n);
    if (n >= -2147483648) return out.u8(0xd2, n >> 24, n >> 16, n >> 8, n);
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    out.u8(0xd3);
    return out.raw(b);
  }
  if (Math.fround(n) === n || Number.isNaN(n)) {
    const b = Buffer.alloc(4);
    b.writeFloatBE(n);
    out.u8(0xca);
    return out.raw(b);
  }
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  out.u8(0xcb);
  out.raw(b);
}

function packValue(L: any, idx: number, out: Bytes, depth: number): void {
  const abs = lua.lua_absindex(L, idx);
  switch (lua.lua_type(L, abs)) {
    case lua.LUA_TSTRING: {
      const s: Uint8Array = lua.lua_tolstring(L, abs);
      const n = s.length;
      if (n < 32) out.u8(0xa0 | n);
      else if (n <= 0xff) out.u8(0xd9, n);
      else if (n <= 0xffff) out.u8(0xda, n >> 8, n);
      else out.u8(0xdb, n >>> 24, n >>> 16, n >>> 8, n);
      return out.raw(s);
    }
    case lua.LUA_TNUMBER:
      return packNumber(out, lua.lua_tonumber(L, abs));
    case lua.LUA_TBOOLEAN:
      return out.u8(lua.lua_toboolean(L, abs) ? 0xc3 : 0xc2);
    case lua.LUA_TTABLE: {
      if (depth >= 16) return out.u8(0xc0); // lua-cmsgpack's LUACMSGPACK_MAX_NESTING
      // An array when the keys are exactly 1..n.
      let count = 0;
      let max = 0;
      let isArray = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, abs) !== 0) {
        lua.lua_pop(L, 1);
        count++;
        if (lua.lua_type(L, -1) === lua.LUA_TNUMBER && Number.isInteger(lua.lua_tonumber(L, -1)) && lua.lua_tonumber(L, -1) >= 1)
          max = Math.max(max, lua.lua_tonumber(L, -1));
        else isArray = false;
      }
      if (isArray && max === count) {
        if (count < 16) out.u8(0x90 | count);
        else if (count <= 0xffff) out.u8(0xdc, count >> 8, count);
        else out.u8(0xdd, count >>> 24, count >>> 16, count >>> 8, count);
        for (let i = 1; i <= count; i++) {
          lua.lua_rawgeti(L, abs, i);
          packValue(L, -1, out, depth + 1);
          lua.lua_pop(L, 1);
        }
        return;
      }
      if (count < 16) out.u8(0x80 | count);
      else if (count <= 0xffff) out.u8(0xde, count >> 8, count);
      else out.u8(0xdf, count >>> 24, count >>> 16, count >>> 8, count);
      lua.lua_pushnil(L);
      while (lua.lua_next(L, abs) !== 0) {
        packValue(L, -2, out, depth + 1);
        packValue(L, -1, out, depth + 1);
        lua.lua_pop(L, 1);
      }
      return;
    }
    default:
      return out.u8(0xc0);
  }
}

/** Pushes one value decoded at `pos`; returns the next position, or -1 when the data is cut short. */
function unpackValue(L: any, b: Buffer, pos: number): number {
  const need = (n: number) => {
    if (pos + n > b.length) throw new RangeError('short');
  };
  need(1);
  const c = b[pos++];
  const str = (n: number) => {
    need(n);
    lua.lua_pushstring(L, Uint8Array.from(b.subarray(pos, pos + n)));
    pos += n;
  };
  const arr = (n: number) => {
    lua.lua_createtable(L, n, 0);
    for (let i = 1; i <= n; i++) {
      pos = unpackValue(L, b, pos);
      lua.lua_rawseti(L, -2, i);
    }
  };
  const mapN = (n: number) => {
    lua.lua_createtable(L, 0, n);
    for (let i = 0; i < n; i++) {
      pos = unpackValue(L, b, pos);
      pos = unpackValue(L, b, pos);
      lua.lua_rawset(L, -3);
    }
  };
  const num = (n: number, read: (o: number) => number | bigint) => {
    need(n);
    lua.lua_pushnumber(L, Number(read(pos)));
    pos += n;
  };
  if (c <= 0x7f) lua.lua_pushnumber(L, c);
  else if (c >= 0xe0) lua.lua_pushnumber(L, c - 256);
  else if ((c & 0xe0) === 0xa0) str(c & 0x1f);
  else if ((c & 0xf0) === 0x90) arr(c & 0x0f);
  else if ((c & 0xf0) === 0x80) mapN(c & 0x0f);
  else {
    switch (c) {
      case 0xc0:
        lua.lua_pushnil(L);
        break;
      case 0xc2:
        lua.lua_pushboolean(L, 0);
        break;
      case 0xc3:
        lua.lua_pushboolean(L, 1);
        break;
      case 0xca:
        num(4, (o) => b.readFloatBE(o));
        break;
      case 0xcb:
        num(8, (o) => b.readDoubleBE(o));
        break;
      case 0xcc:
        num(1, (o) => b.readUInt8(o));
        break;
      case 0xcd:
        num(2, (o) => b.readUInt16BE(o));
        break;
      case 0xce:
        num(4, (o) => b.readUInt32BE(o));
        break;
      case 0xcf:
        num(8, (o) => b.readBigUInt64BE(o));
        break;
      case 0xd0:
        num(1, (o) => b.readInt8(o));
        break;
      case 0xd1:
        num(2, (o) => b.readInt16BE(o));
        break;
      case 0xd2:
        num(4, (o) => b.readInt32BE(o));
        break;
      case 0xd3:
        num(8, (o) => b.readBigInt64BE(o));
        break;
      case 0xc4:
      case 0xd9:
        need(1);
        str(b[pos++]);
        break;
      case 0xc5:
      case 0xda:
        need(2);
        pos += 2;
        str(b.readUInt16BE(pos - 2));
        break;
      case 0xc6:
      case 0xdb:
        need(4);
        pos += 4;
        str(b.readUInt32BE(pos - 4));
        break;
      case 0xdc:
        need(2);
        pos += 2;
        arr(b.readUInt16BE(pos - 2));
        break;
      case 0xdd:
        need(4);
        pos += 4;
        arr(b.readUInt32BE(pos - 4));
        break;
      case 0xde:
        need(2);
        pos += 2;
        mapN(b.readUInt16BE(pos - 2));
        break;
      case 0xdf:
        need(4);
        pos += 4;
        mapN(b.readUInt32BE(pos - 4));
        break;
      default:
        throw new TypeError('bad');
    }
  }
  return pos;
}

function openCmsgpack(L: any): void {
  const pack: Fn = (L) => {
    const n = lua.lua_gettop(L);
    if (n === 0) return lauxlib.luaL_argerror(L, 0, S('MessagePack pack needs input.'));
    const out = new Bytes();
    for (let i = 1; i <= n; i++) packValue(L, i, out, 0);
    lua.lua_pushstring(L, out.take());
    return 1;
  };
  /** Decodes up to `limit` values (0 = all) from `offset`; with `withOffset`, the next offset first. */
  const decode = (L: any, limit: number, offset: number, withOffset: boolean): number => {
    const b = Buffer.from(lauxlib.luaL_checklstring(L, 1));
    const top = lua.lua_gettop(L);
    let pos = offset;
    let count = 0;
    try {
      while (pos < b.length && (limit === 0 || count < limit)) {
        lauxlib.luaL_checkstack(L, 1, S('too many values'));
        pos = unpackValue(L, b, pos);
        count++;
      }
    } catch (err) {
      if ((err as { status?: unknown }).status !== undefined) throw err;
      lua.lua_settop(L, top);
      return lauxlib.luaL_error(L, S('Missing bytes in input.'));
    }
    if (withOffset) {
      lua.lua_pushnumber(L, pos >= b.length ? -1 : pos);
      lua.lua_insert(L, top + 1);
      return count + 1;
    }
    return count;
  };
  newLib(
    L,
    'cmsgpack',
    {
      pack,
      unpack: (L) => decode(L, 0, 0, false),
      unpack_one: (L) => decode(L, 1, lua.lua_isnoneornil(L, 2) ? 0 : lauxlib.luaL_checkinteger(L, 2), true),
      unpack_limit: (L) =>
        decode(L, lauxlib.luaL_checkinteger(L, 2), lua.lua_isnoneornil(L, 3) ? 0 : lauxlib.luaL_checkinteger(L, 3), true),
    },
    (L) => {
      for (const [k, v] of [
        ['_NAME', 'cmsgpack'],
        ['_VERSION', 'lua-cmsgpack 0.4.0'],
        ['_COPYRIGHT', 'Copyright (C) 2012, Salvatore Sanfilippo'],
        ['_DESCRIPTION', 'MessagePack C implementation for Lua'],
      ]) {
        lua.lua_pushstring(L, S(v));
        lua.lua_setfield(L, -2, S(k));
      }
    },
  );
}

// ---- struct ---------------------------------------------------------------------------------

interface StructItem {
  code: string;
  size: number;
}

function parseFormat(L: any, fmt: string): { items: StructItem[]; little: boolean[]; align: number[] } {
  const items: StructItem[] = [];
  const little: boolean[] = [];
  const align: number[] = [];
  let le = true;
  let maxAlign = 1;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    let num = '';
    while (i + 1 < fmt.length && /[0-9]/.test(fmt[i + 1])) num += fmt[++i];
    const n = num ? Number(num) : -1;
    switch (c) {
      case ' ':
        continue;
      case '<':
        le = true;
        continue;
      case '>':
        le = false;
        continue;
      case '=':
        le = true;
        continue;
      case '!':
        maxAlign = n < 0 ? 8 : n;
        continue;
      case 'b':
      case 'B':
      case 'x':
        items.push({ code: c, size: 1 });
        break;
      case 'h':
      case 'H':
        items.push({ code: c, size: 2 });
        break;
      case 'l':
      case 'L':
      case 'T':
        items.push({ code: c, size: 8 });
        break;
      case 'i':
      case 'I': {
        const size = n < 0 ? 4 : n;
        if (size < 1 || size > 8) lauxlib.luaL_error(L, S(`integral size ${size} is larger than limit of 8`));
        items.push({ code: c, size });
        break;
      }
      case 'f':
        items.push({ code: c, size: 4 });
        break;
      case 'd':
        items.push({ code: c, size: 8 });
        break;
      case 'c':
        items.push({ code: c, size: n < 0 ? 1 : n });
        if (n === 0) items[items.length - 1].size = 0;
        break;
      case 's':
        items.push({ code: c, size: 0 });
        break;
      default:
        lauxlib.luaL_error(L, S(`invalid format option '${c}'`));
    }
    little.push(le);
    align.push(maxAlign);
  }
  return { items, little, align };
}

function padding(pos: number, size: number, maxAlign: number): number {
  const a = Math.min(size, maxAlign);
  if (a <= 1 || (a & (a - 1)) !== 0) return 0;
  return (a - (pos & (a - 1))) & (a - 1);
}

function openStruct(L: any): void {
  const pack: Fn = (L) => {
    const fmt = fengari.to_jsstring(lauxlib.luaL_checkstring(L, 1));
    const { items, little, align } = parseFormat(L, fmt);
    const out = new Bytes();
    let arg = 2;
    items.forEach((item, k) => {
      const le = little[k];
      if (['b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I', 'f', 'd'].includes(item.code)) {
        const pad = padding(out.len, item.size, align[k]);
        for (let p = 0; p < pad; p++) out.u8(0);
      }
      switch (item.code) {
        case 'x':
          return out.u8(0);
        case 'f':
        case 'd': {
          const b = Buffer.alloc(item.size);
          const v = lauxlib.luaL_checknumber(L, arg++);
          if (item.size === 4) {
            if (le) b.writeFloatLE(v);
            else b.writeFloatBE(v);
          } else if (le) b.writeDoubleLE(v);
          else b.writeDoubleBE(v);
          return out.raw(b);
        }
        case 'c':
        case 's': {
          const s: Uint8Array = lauxlib.luaL_checklstring(L, arg++);
          let size = item.size;
          if (item.code === 's' || size === 0) size = s.length;
          if (s.length < size) lauxlib.luaL_argerror(L, arg - 1, S('string too short'));
          out.raw(s.subarray(0, size));
          if (item.code === 's') out.u8(0);
          return;
        }
        default: {
          let v = BigInt(Math.trunc(lauxlib.luaL_checknumber(L, arg++)));
          const bytes: number[] = [];
          for (let i = 0; i < item.size; i++) {
            bytes.push(Number(v & 0xffn));
            v >>= 8n;
          }
          if (!le) bytes.reverse();
          return out.u8(...bytes);
        }
      }
    });
    lua.lua_pushstring(L, out.take());
    return 1;
  };
  const unpack: Fn = (L) => {
    const fmt = fengari.to_jsstring(lauxlib.luaL_checkstring(L, 1));
    const data = Buffer.from(lauxlib.luaL_checklstring(L, 2));
    let pos = lua.lua_isnoneornil(L, 3) ? 0 : lauxlib.luaL_checkinteger(L, 3) - 1;
    lauxlib.luaL_argcheck(L, pos >= 0, 3, S('offset must be 1 or greater'));
    const { items, little, align } = parseFormat(L, fmt);
    let n = 0;
    let lastNumber = 0;
    items.forEach((item, k) => {
      const le = little[k];
      if (['b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I', 'f', 'd'].includes(item.code)) pos += padding(pos, item.size, align[k]);
      const room = (size: number) => lauxlib.luaL_argcheck(L, pos + size <= data.length, 2, S('data string too short'));
      switch (item.code) {
        case 'x':
          pos += 1;
          return;
        case 'f':
        case 'd':
          room(item.size);
          lua.lua_pushnumber(
            L,
            item.size === 4 ? (le ? data.readFloatLE(pos) : data.readFloatBE(pos)) : le ? data.readDoubleLE(pos) : data.readDoubleBE(pos),
          );
          pos += item.size;
          n++;
          return;
        case 'c': {
          let size = item.size;
          if (size === 0) {
            size = lastNumber;
            lua.lua_pop(L, 1);
            n--;
          }
          room(size);
          lua.lua_pushstring(L, Uint8Array.from(data.subarray(pos, pos + size)));
          pos += size;
          n++;
          return;
        }
        case 's': {
          const end = data.indexOf(0, pos);
          if (end < 0) lauxlib.luaL_error(L, S('unfinished string in data'));
          lua.lua_pushstring(L, Uint8Array.from(data.subarray(pos, end)));
          pos = end + 1;
          n++;
          return;
        }
        default: {
          room(item.size);
          const bytes = [...data.subarray(pos, pos + item.size)];
          if (!le) bytes.reverse();
          let v = 0n;
          for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
          if (item.code === item.code.toLowerCase() && item.code !== 'x') v = BigInt.asIntN(item.size * 8, v);
          lastNumber = Number(v);
          lua.lua_pushnumber(L, lastNumber);
          pos += item.size;
          n++;
        }
      }
    });
    lua.lua_pushnumber(L, pos + 1);
    return n + 1;
  };
  const size: Fn = (L) => {
    const fmt = fengari.to_jsstring(lauxlib.luaL_checkstring(L, 1));
    const { items, align } = parseFormat(L, fmt);
    let pos = 0;
    items.forEach((item, k) => {
      if (item.code === 's' || (item.code === 'c' && item.size === 0))
        lauxlib.luaL_argerror(L, 1, S("options 'c0' - 's' have undefined sizes"));
      if (['b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I', 'f', 'd'].includes(item.code)) pos += padding(pos, item.size, align[k]);
      pos += item.size;
    });
    lua.lua_pushnumber(L, pos);
    return 1;
  };
  newLib(L, 'struct', { pack, unpack, size });
}
