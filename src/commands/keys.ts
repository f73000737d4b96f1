import { Errors } from '../protocol/errors';
import { bulk, OK, simple, type Reply } from '../protocol/reply';
import { int32, key, keys, parseInt64, scanCursor, word } from './args';
import { outOfRange } from './databases';
import { lookedUp, type CommandContext } from './context';
import { globMatch, globPrefix } from './glob';
import { notifying } from './notify';
import { command } from './types';

export const del = command<string[]>({
  name: 'del',
  arity: -2,
  flags: ['write'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Deletes one or more keys.',
  group: 'generic',
  since: '1.0.0',
  parse: (argv) => keys(argv.slice(1)),
  plain: (ks) => ({ kind: 'delete', keys: ks }),
  run: deleteKeys,
});

export const unlink = command<string[]>({
  name: 'unlink',
  arity: -2,
  flags: ['write', 'fast'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Asynchronously deletes one or more keys.',
  group: 'generic',
  since: '4.0.0',
  parse: (argv) => keys(argv.slice(1)),
  plain: (ks) => ({ kind: 'delete', keys: ks }),
  run: deleteKeys,
});

/** DEL / UNLINK: a `del` event per key deleted, in argument order (the first of repeats). */
async function deleteKeys(ks: string[], { store, notify, server }: CommandContext): Promise<number> {
  // One statement unless the events need to know which keys went.
  if (!notifying(server.config.notifyKeyspaceEvents, 'generic')) return store.delete(ks);
  let n = 0;
  for (const k of new Set(ks)) {
    if (!(await store.delete([k]))) continue;
    n++;
    notify('generic', 'del', k);
  }
  return n;
}

/** How many of the keys are live, repeats included: one read lookup per key named (Redis's existsCommand, touchCommand). */
async function liveCount(ks: string[], { store, lookups }: CommandContext): Promise<number> {
  const n = await store.countExisting(ks);
  lookedUp(lookups, n, ks.length);
  return n;
}

export const exists = command<string[]>({
  name: 'exists',
  arity: -2,
  flags: ['readonly', 'fast'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Determines whether one or more keys exist.',
  group: 'generic',
  since: '1.0.0',
  parse: (argv) => keys(argv.slice(1)),
  plain: (ks) => ({ kind: 'exists', keys: ks }),
  run: liveCount,
});

/** TOUCH only updates access times in Redis; respql keeps none, so it counts live keys (repeats included). */
export const touch = command<string[]>({
  name: 'touch',
  arity: -2,
  flags: ['readonly', 'fast'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Returns the number of existing keys out of those specified after updating the time they were last accessed.',
  group: 'generic',
  since: '3.2.1',
  parse: (argv) => keys(argv.slice(1)),
  run: liveCount,
});

export const type = command<string>({
  name: 'type',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Determines the type of value stored at a key.',
  group: 'generic',
  since: '1.0.0',
  parse: (argv) => key(argv[1]),
  async run(k, { store, lookups }) {
    const type = await store.typed.keyType(k);
    lookedUp(lookups, type !== null);
    return simple(type ?? 'none');
  },
});

/** Keys matching a glob: the SQL side narrowed by the pattern's literal prefix, the glob deciding. */
function matching(found: Buffer[], pattern: Buffer | null): Buffer[] {
  return pattern ? found.filter((k) => globMatch(pattern, k)) : found;
}

/** "*" matches everything: Redis skips matching then, and so does respql. */
const matchAll = (pattern: Buffer) => pattern.length === 1 && pattern[0] === 0x2a;

export const keysCommand = command<Buffer>({
  name: 'keys',
  arity: 2,
  flags: ['readonly'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Returns all key names that match a pattern.',
  group: 'generic',
  since: '1.0.0',
  parse: (argv) => argv[1],
  async run(pattern, { store }) {
    if (matchAll(pattern)) return store.allKeys();
    return matching(await store.allKeys(globPrefix(pattern) || undefined), pattern);
  },
});

export interface ScanArgs {
  cursor: bigint;
  count: number;
  /** null = every key (no MATCH, or MATCH *). */
  pattern: Buffer | null;
  /** TYPE filter, lower-cased; null = none. */
  type: string | null;
}

/** Redis 7.0's scanGenericCommand option grammar; the cursor is checked first. */
function parseScan(argv: Buffer[]): ScanArgs {
  const args: ScanArgs = { cursor: scanCursor(argv[1]), count: 10, pattern: null, type: null };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = word(argv[i]);
    const hasValue = i + 1 < argv.length;
    if (opt === 'COUNT' && hasValue) {
      const count = parseInt64(argv[i + 1]);
      if (count === null) throw Errors.notInteger();
      if (count < 1n) throw Errors.syntax();
      // A hint: anything beyond what a JS number holds exactly means "everything".
      args.count = count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
    } else if (opt === 'MATCH' && hasValue) {
      args.pattern = matchAll(argv[i + 1]) ? null : argv[i + 1];
    } else if (opt === 'TYPE' && hasValue) {
      args.type = argv[i + 1].toString('latin1').toLowerCase();
    } else {
      throw Errors.syntax();
    }
  }
  return args;
}

/**
 * SCAN's cursor is the last row id examined (SQLite rowid / PostgreSQL identity column):
 * rows are visited in id order, so a key that lives through the whole iteration is
 * returned exactly once unless it is rewritten (a new row id) during it. "0" means done.
 */
export const scan = command<ScanArgs>({
  name: 'scan',
  arity: -2,
  flags: ['readonly'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Iterates over the key names in the database.',
  group: 'generic',
  since: '2.8.0',
  parse: parseScan,
  async run(a, { store }): Promise<Reply> {
    // No row id is that large: the iteration is over.
    if (a.cursor > BigInt(Number.MAX_SAFE_INTEGER)) return [bulk('0'), []];
    const page = await store.scan(Number(a.cursor), a.count, a.pattern ? globPrefix(a.pattern) || undefined : undefined);
    const typed = a.type === null ? page.keys : page.keys.filter((_, i) => page.types[i] === a.type);
    const found = matching(typed, a.pattern);
    return [bulk(String(page.cursor)), found];
  },
});

/** FLUSHDB / FLUSHALL [ASYNC|SYNC]: the selected database, or every one (ASYNC is as SYNC: one transaction either way). */
function flushCommand(name: 'flushdb' | 'flushall', summary: string) {
  return command<null>({
    name,
    arity: -1,
    flags: ['write'],
    keys: [0, 0, 0],
    data: true,
    summary,
    group: 'server',
    since: '1.0.0',
    parse(argv) {
      if (argv.length > 2) throw Errors.syntax();
      if (argv.length === 2 && word(argv[1]) !== 'SYNC' && word(argv[1]) !== 'ASYNC') throw Errors.syntax();
      return null;
    },
    async run(_, { store }) {
      if (name === 'flushdb') await store.flush();
      else for (const db of await store.databases()) await store.database(db).flush();
      return OK;
    },
  });
}

export const flushdb = flushCommand('flushdb', 'Removes all keys from the current database.');
export const flushall = flushCommand('flushall', 'Removes all keys from all databases.');

export const randomkey = command<null>({
  name: 'randomkey',
  arity: 1,
  flags: ['readonly'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Returns a random key name from the database.',
  group: 'generic',
  since: '1.0.0',
  parse: () => null,
  async run(_, { store }) {
    const k = await store.randomKey();
    return k === null ? null : bulk(k);
  },
});

interface RenameArgs {
  from: string;
  to: string;
}

function renameCommand(nx: boolean) {
  return command<RenameArgs>({
    name: nx ? 'renamenx' : 'rename',
    arity: 3,
    flags: nx ? ['write', 'fast'] : ['write'],
    keys: [1, 2, 1],
    data: true,
    summary: nx ? "Renames a key only when the target key name doesn't exist." : 'Renames a key and overwrites the destination.',
    group: 'generic',
    since: '1.0.0',
    parse: (argv) => ({ from: key(argv[1]), to: key(argv[2]) }),
    async run({ from, to }, { store, notify }): Promise<Reply> {
      if (from === to) {
        // Nothing moves, but a missing key is still an error.
        if ((await store.countExisting([from])) === 0) throw Errors.noSuchKey();
        return nx ? 0 : OK;
      }
      const outcome = await store.rename(from, to, nx);
      if (outcome === 'missing') throw Errors.noSuchKey();
      // Redis deletes the destination and adds it again: always a `new` key.
      if (outcome === 'done') {
        notify('new', 'new', to);
        notify('generic', 'rename_from', from);
        notify('generic', 'rename_to', to);
      }
      if (nx) return outcome === 'done' ? 1 : 0;
      return OK;
    },
  });
}

export const rename = renameCommand(false);
export const renamenx = renameCommand(true);

export interface CopyArgs {
  from: string;
  to: string;
  replace: boolean;
  /** The DB options given, in order (the last wins); their range is checked with the client's settings (dispatch). */
  dbs: number[];
  /** A syntax error after a DB option: Redis reports that DB's range first. */
  syntaxError?: boolean;
  /** The target database, once dispatched (null: the selected one). */
  db?: number | null;
}

/** COPY source destination [DB destination-db] [REPLACE]. */
function parseCopy(argv: Buffer[]): CopyArgs {
  const args: CopyArgs = { from: key(argv[1]), to: key(argv[2]), replace: false, dbs: [] };
  for (let j = 3; j < argv.length; j++) {
    const opt = word(argv[j]);
    if (opt === 'REPLACE') {
      args.replace = true;
    } else if (opt === 'DB' && j + 1 < argv.length) {
      args.dbs.push(int32(argv[j + 1]));
      j++;
    } else if (args.dbs.length) {
      args.syntaxError = true;
      break;
    } else {
      throw Errors.syntax();
    }
  }
  if (args.from === args.to && !args.dbs.length) throw Errors.sameObject();
  return args;
}

export const copy = command<CopyArgs>({
  name: 'copy',
  arity: -3,
  flags: ['write', 'denyoom'],
  keys: [1, 2, 1],
  data: true,
  summary: 'Copies the value of a key to a new key.',
  group: 'generic',
  since: '6.2.0',
  parse: parseCopy,
  // Redis's order: each DB option's range, then the syntax, then the same key in the same database.
  dispatch(a, { client, server }) {
    for (const db of a.dbs) {
      const error = outOfRange(server, db);
      if (error) return error;
    }
    if (a.syntaxError) return Errors.syntax();
    const db = a.dbs.length ? a.dbs[a.dbs.length - 1] : client.db;
    if (db === client.db && a.from === a.to) return Errors.sameObject();
    return { ...a, db: db === client.db ? null : db };
  },
  async run(a, { store, lookups, notify }) {
    const outcome =
      a.db === null || a.db === undefined
        ? await store.copy(a.from, a.to, a.replace)
        : await store.transfer(store.database(a.db), a.from, a.to, a.replace, false);
    if (outcome === 'done') {
      notify('new', 'new', a.to, a.db ?? undefined);
      notify('generic', 'copy_to', a.to, a.db ?? undefined);
    }
    // The source is read as lookupKeyRead reads it (the destination is a write lookup, not counted).
    lookedUp(lookups, outcome !== 'missing');
    return outcome === 'done' ? 1 : 0;
  },
});

export const keyCommands = [del, unlink, exists, touch, type, keysCommand, scan, flushdb, flushall, randomkey, rename, renamenx, copy];
