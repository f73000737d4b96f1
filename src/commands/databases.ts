/**
 * Numbered databases (Redis's db.c): SELECT, MOVE, SWAPDB, and the range check that they, COPY
 * ... DB and FLUSHALL share. The tables behind each database are the store's business (see
 * src/store/databases.ts).
 */
import { Errors, RespError } from '../protocol/errors';
import { OK } from '../protocol/reply';
import { int32, key } from './args';
import type { ServerContext } from './context';
import { command } from './types';

/** Redis's selectDb check: null when `db` is one of the configured databases. */
export function outOfRange(server: ServerContext, db: number): RespError | null {
  return db < 0 || db >= server.config.databases ? Errors.dbIndexOutOfRange() : null;
}

export const select = command<number>({
  name: 'select',
  arity: 2,
  flags: ['loading', 'stale', 'fast'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Changes the selected database.',
  group: 'connection',
  since: '1.0.0',
  parse: (argv) => int32(argv[1]),
  // As the command is read: the commands pipelined after it run on the new database. Inside
  // MULTI or a script the client is their own, whose database is theirs (see EXEC, runScript).
  run(db, { client, server }) {
    const error = outOfRange(server, db);
    if (error) return error;
    client.db = db;
    return OK;
  },
});

interface MoveArgs {
  key: string;
  db: number;
}

export const move = command<MoveArgs>({
  name: 'move',
  arity: 3,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Moves a key to another database.',
  group: 'generic',
  since: '1.0.0',
  parse: (argv) => ({ key: key(argv[1]), db: int32(argv[2]) }),
  dispatch(args, { client, server }) {
    return outOfRange(server, args.db) ?? (args.db === client.db ? Errors.sameObject() : args);
  },
  async run({ key: k, db }, { store, notify }) {
    // Absent here, or there already: nothing moves.
    if ((await store.transfer(store.database(db), k, k, false, true)) !== 'done') return 0;
    // Redis's dbAdd in the target, then the source's event, then the target's.
    notify('new', 'new', k, db);
    notify('generic', 'move_from', k);
    notify('generic', 'move_to', k, db);
    return 1;
  },
});

export const swapdb = command<[number, number]>({
  name: 'swapdb',
  arity: 3,
  flags: ['write', 'fast'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Swaps two Redis databases.',
  group: 'server',
  since: '4.0.0',
  parse: (argv) => [
    int32(argv[1], () => new RespError('ERR invalid first DB index')),
    int32(argv[2], () => new RespError('ERR invalid second DB index')),
  ],
  dispatch(dbs, { server }) {
    return outOfRange(server, dbs[0]) ?? outOfRange(server, dbs[1]) ?? dbs;
  },
  async run([a, b], { store }) {
    if (a !== b) await store.database(a).swap(store.database(b));
    return OK;
  },
});

export const databaseCommands = [select, move, swapdb];
