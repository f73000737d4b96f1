/** Between the server's Reply values and the Wire form that crosses to the script worker. */
import { RespError } from '../protocol/errors';
import { double, map, simple, type Reply } from '../protocol/reply';
import type { Wire } from './wire';

/** A command's reply, for the script that called it. */
export function toWire(reply: Reply): Wire {
  if (reply === null) return null;
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'number' || typeof reply === 'bigint') return reply;
  if (reply instanceof RespError) return { t: 'err', m: reply.message };
  if (Array.isArray(reply)) return reply.map(toWire);
  switch (reply.kind) {
    case 'simple':
      return { t: 'status', m: reply.value };
    case 'nullArray':
      return { t: 'nullArray' };
    case 'map':
      return { t: 'map', e: reply.entries.map(([k, v]) => [toWire(k), toWire(v)]) };
    case 'set':
      return { t: 'set', i: reply.items.map(toWire) };
    case 'double':
      return { t: 'double', v: reply.value };
    case 'verbatim':
      return Buffer.from(reply.text, 'utf8');
    case 'bool':
      return { t: 'bool', v: reply.value };
    // Neither reaches a script (SUBSCRIBE and friends are noscript); as arrays if they did.
    case 'push':
      return reply.items.map(toWire);
    case 'replies':
      return reply.replies.map(toWire);
    case 'none':
      return null;
  }
}

/** A script's result as the server's reply. `bool` turns a Lua boolean into what the caller's protocol can carry. */
export function fromWire(wire: Wire, bool: (v: boolean) => Reply): Reply {
  if (wire === null) return null;
  if (wire instanceof Uint8Array) return Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  if (typeof wire === 'number' || typeof wire === 'bigint') return wire;
  if (Array.isArray(wire)) return wire.map((w) => fromWire(w, bool));
  switch (wire.t) {
    case 'err':
      return new RespError(wire.m);
    case 'status':
      return simple(wire.m);
    case 'nullArray':
      return { kind: 'nullArray' };
    case 'map':
      return map(wire.e.map(([k, v]) => [fromWire(k, bool), fromWire(v, bool)] as const));
    case 'set':
      return { kind: 'set', items: wire.i.map((w) => fromWire(w, bool)) };
    case 'double':
      return double(wire.v);
    case 'bool':
      return bool(wire.v);
  }
}
