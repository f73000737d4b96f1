import { RespError } from './errors';

/**
 * The values a command returns. The encoder picks the RESP2 or RESP3 form per connection.
 *  - Buffer        bulk string
 *  - number/bigint integer
 *  - null          null (RESP2 `$-1`, RESP3 `_`)
 *  - Reply[]       array
 *  - RespError     error
 *  - the tagged objects below for the remaining shapes
 */
export type Reply =
  | Buffer
  | number
  | bigint
  | null
  | RespError
  | Reply[]
  | SimpleString
  | NullArray
  | MapReply
  | DoubleReply
  | VerbatimReply
  | SetReply
  | BoolReply
  | PushReply
  | RepliesReply
  | NoReply;

export interface SimpleString {
  readonly kind: 'simple';
  readonly value: string;
}
/** RESP2 `*-1` (EXEC aborted by WATCH), RESP3 `_`. */
export interface NullArray {
  readonly kind: 'nullArray';
}
/** RESP3 map; flattened to an array in RESP2. */
export interface MapReply {
  readonly kind: 'map';
  readonly entries: ReadonlyArray<readonly [Reply, Reply]>;
}
/** RESP3 double; a bulk string in RESP2. */
export interface DoubleReply {
  readonly kind: 'double';
  readonly value: number;
}
/** RESP3 verbatim string (INFO, CLIENT INFO); a bulk string in RESP2. */
export interface VerbatimReply {
  readonly kind: 'verbatim';
  readonly format: string;
  readonly text: string;
}
/** RESP3 set; an array in RESP2. */
export interface SetReply {
  readonly kind: 'set';
  readonly items: Reply[];
}

/** RESP3 boolean (`#t`/`#f`); the integer 1 or 0 in RESP2 (a script's boolean after redis.setresp(3)). */
export interface BoolReply {
  readonly kind: 'bool';
  readonly value: boolean;
}

/** RESP3 push (`>`, pub/sub messages and confirmations); an array in RESP2. */
export interface PushReply {
  readonly kind: 'push';
  readonly items: Reply[];
}
/** Several top-level replies from one command (SUBSCRIBE a b answers once per channel). */
export interface RepliesReply {
  readonly kind: 'replies';
  readonly replies: Reply[];
}

/** Nothing goes on the wire (CLIENT REPLY OFF|SKIP). */
export interface NoReply {
  readonly kind: 'none';
}

export const NO_REPLY: NoReply = { kind: 'none' };
export const OK: SimpleString = { kind: 'simple', value: 'OK' };
export const QUEUED: SimpleString = { kind: 'simple', value: 'QUEUED' };
export const PONG: SimpleString = { kind: 'simple', value: 'PONG' };
export const NULL_ARRAY: NullArray = { kind: 'nullArray' };

export const push = (items: Reply[]): PushReply => ({ kind: 'push', items });
export const replies = (list: Reply[]): RepliesReply => ({ kind: 'replies', replies: list });
export const simple = (value: string): SimpleString => ({ kind: 'simple', value });
export const bulk = (value: string): Buffer => Buffer.from(value, 'utf8');
export const map = (entries: ReadonlyArray<readonly [Reply, Reply]>): MapReply => ({ kind: 'map', entries });
export const double = (value: number): DoubleReply => ({ kind: 'double', value });
export const verbatim = (text: string, format = 'txt'): VerbatimReply => ({ kind: 'verbatim', format, text });

/** A map whose keys are text, the usual shape of HELLO / CLIENT / COMMAND DOCS replies. */
export function textMap(record: Record<string, Reply>): MapReply {
  return map(Object.entries(record).map(([k, v]) => [bulk(k), v] as const));
}
