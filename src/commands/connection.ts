import { timingSafeEqual, createHash } from 'node:crypto';
import { Errors, RespError } from '../protocol/errors';
import { bulk, OK, PONG, simple, textMap, verbatim, NO_REPLY, type Reply } from '../protocol/reply';
import { integer, parseInt64, word } from './args';
import type { ClientState, ServerContext } from './context';
import { command, type CommandSpec } from './types';

/** Version reported to clients: the Redis release whose behaviour respql follows. */
export const REDIS_COMPAT_VERSION = '7.0.15';

/** Constant-time password check (hashes first so lengths do not leak either). */
export function passwordMatches(given: Buffer, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * AUTH/HELLO credentials, as Redis's ACL does it for the users respql has: `default`
 * (password = --requirepass; without one it is `nopass` and every password is accepted)
 * and the named users of --user. Unknown users cost one comparison too, so the time taken
 * does not tell which users exist. The failure text never repeats what was sent.
 */
function authenticate(server: ServerContext, client: ClientState, user: Buffer, pass: Buffer): RespError | null {
  const name = user.toString('latin1');
  const expected = name === 'default' ? server.config.requirepass : server.config.users.get(name);
  let ok: boolean;
  if (expected === undefined) ok = passwordMatches(pass, '') && false;
  else ok = expected === null || passwordMatches(pass, expected);
  if (!ok) return Errors.wrongPass();
  client.authenticated = true;
  client.user = name;
  return null;
}

export const ping = command<Buffer | null>({
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  keys: [0, 0, 0],
  data: false,
  summary: "Returns the server's liveliness response.",
  group: 'connection',
  since: '1.0.0',
  parse(argv) {
    if (argv.length > 2) throw Errors.wrongArity('ping');
    return argv[1] ?? null;
  },
  // RESP2 subscribed mode answers in the shape of a message (Redis's pingCommand).
  run: (message, { client }) =>
    client.subscriptions > 0 && client.protocol === 2 ? [bulk('pong'), message ?? bulk('')] : (message ?? PONG),
});

export const echo = command<Buffer>({
  name: 'echo',
  arity: 2,
  flags: ['fast'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Returns the given string.',
  group: 'connection',
  since: '1.0.0',
  parse: (argv) => argv[1],
  run: (message) => message,
});

export const quit = command<null>({
  name: 'quit',
  arity: -1,
  flags: ['no_auth', 'fast', 'loading', 'stale'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Closes the connection.',
  group: 'connection',
  since: '1.0.0',
  parse: () => null,
  run(_, { client }) {
    client.closeAfterReply = true;
    return OK;
  },
});

interface AuthArgs {
  user: Buffer | null;
  pass: Buffer;
}

export const auth = command<AuthArgs>({
  name: 'auth',
  arity: -2,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Authenticates the connection.',
  group: 'connection',
  since: '1.0.0',
  parse(argv) {
    if (argv.length > 3) throw Errors.syntax();
    return argv.length === 2 ? { user: null, pass: argv[1] } : { user: argv[1], pass: argv[2] };
  },
  run({ user, pass }, { client, server }) {
    if (user === null && server.config.requirepass === null) return Errors.authNotConfigured();
    return authenticate(server, client, user ?? Buffer.from('default'), pass) ?? OK;
  },
});

/** The map HELLO answers with (flattened to an array in RESP2). */
function helloReply(client: ClientState): Reply {
  return textMap({
    server: bulk('redis'),
    version: bulk(REDIS_COMPAT_VERSION),
    proto: client.protocol,
    id: client.id,
    mode: bulk('standalone'),
    role: bulk('master'),
    modules: [],
  });
}

interface HelloArgs {
  version: 2 | 3 | null;
  user: Buffer | null;
  pass: Buffer | null;
  name: Buffer | null;
}

export const hello = command<HelloArgs>({
  name: 'hello',
  arity: -1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Handshakes with the Redis server.',
  group: 'connection',
  since: '6.0.0',
  parse(argv) {
    const args: HelloArgs = { version: null, user: null, pass: null, name: null };
    if (argv.length >= 2) {
      const v = parseInt64(argv[1]);
      if (v === null) throw new RespError('ERR Protocol version is not an integer or out of range');
      if (v !== 2n && v !== 3n) throw Errors.noProto();
      args.version = Number(v) as 2 | 3;
    }
    for (let i = 2; i < argv.length; i++) {
      const more = argv.length - 1 - i;
      const opt = word(argv[i]);
      if (opt === 'AUTH' && more >= 2) {
        args.user = argv[i + 1];
        args.pass = argv[i + 2];
        i += 2;
      } else if (opt === 'SETNAME' && more >= 1) {
        args.name = argv[++i];
      } else {
        throw new RespError(`ERR Syntax error in HELLO option '${argv[i].toString('latin1')}'`);
      }
    }
    return args;
  },
  run(a, { client, server }) {
    if (a.user && a.pass) {
      const failed = authenticate(server, client, a.user, a.pass);
      if (failed) return failed;
    }
    if (!client.authenticated) {
      return Errors.helloNoAuth();
    }
    if (a.name) {
      const error = setClientName(client, a.name);
      if (error) return error;
    }
    if (a.version) client.protocol = a.version;
    return helloReply(client);
  },
});

export const reset = command<null>({
  name: 'reset',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Resets the connection.',
  group: 'connection',
  since: '6.2.0',
  parse: () => null,
  run(_, { client, server }) {
    client.multi = null;
    server.watches.unwatchAll(client);
    server.pubsub.unsubscribeAll(client);
    client.name = null;
    client.protocol = 2;
    client.replyMode = 'on';
    client.db = 0;
    client.authenticated = server.config.requirepass === null;
    client.user = 'default';
    return simple('RESET');
  },
});

/**
 * CLIENT KILL addr (the old form: OK, or an error when no client matched; a client may kill
 * itself) or CLIENT KILL <filter value> ... (the new form: how many were killed; SKIPME yes
 * by default), checked in Redis 7.0's order. A client that kills itself gets its reply first.
 */
function clientKill(args: Buffer[], self: ClientState, server: ServerContext): Reply | Promise<Reply> {
  const killed = killClients(args, self, server);
  if (killed instanceof RespError) return killed;
  const answer = (total: number): Reply => (args.length === 1 ? (total ? OK : Errors.noSuchClient()) : total);
  if (!server.peers) return answer(killed);
  // The other workers' clients too (their answers: how many each killed).
  return server.peers.ask('client-kill', args).then((counts) => answer(counts.reduce<number>((n, c) => n + Number(c), killed)));
}

/** CLIENT KILL's work on this process's clients (`self` null when another worker asks): how many matched, or the error. */
export function killClients(args: Buffer[], self: ClientState | null, server: ServerContext): number | RespError {
  const oldForm = args.length === 1;
  let id: number | null = null;
  let addr: string | null = oldForm ? args[0].toString('latin1') : null;
  let laddr: string | null = null;
  let user: string | null = null;
  let normalOnly: boolean | null = null;
  let skipMe = !oldForm;
  for (let i = 0; !oldForm && i < args.length; i += 2) {
    if (i + 1 >= args.length) return Errors.syntax();
    const opt = word(args[i]);
    const value = args[i + 1];
    if (opt === 'ID') {
      const n = parseInt64(value);
      if (n === null || n < 1n) return new RespError('ERR client-id should be greater than 0');
      id = Number(n);
    } else if (opt === 'TYPE') {
      const type = word(value);
      if (!['NORMAL', 'MASTER', 'SLAVE', 'REPLICA', 'PUBSUB'].includes(type)) return Errors.unknownClientType(value);
      normalOnly = type === 'NORMAL';
    } else if (opt === 'ADDR') addr = value.toString('latin1');
    else if (opt === 'LADDR') laddr = value.toString('latin1');
    else if (opt === 'USER') {
      user = value.toString('latin1');
      if (user !== 'default' && !server.config.users.has(user)) return Errors.noSuchUser(value);
    } else if (opt === 'SKIPME') {
      const v = word(value);
      if (v !== 'YES' && v !== 'NO') return Errors.syntax();
      skipMe = v === 'YES';
    } else return Errors.syntax();
  }
  const victims = [...server.clients.values()].filter(
    (c) =>
      (id === null || c.id === id) &&
      (addr === null || c.remoteAddress === addr) &&
      (laddr === null || c.localAddress === laddr) &&
      (user === null || c.user === user) &&
      normalOnly !== false &&
      !(skipMe && c === self),
  );
  for (const c of victims) {
    if (c === self) c.closeAfterReply = true;
    else server.killClient(c.id);
  }
  return victims.length;
}

/** Redis accepts client names made of printable ASCII without spaces. */
function setClientName(client: ClientState, name: Buffer): RespError | null {
  for (const c of name) if (c < 0x21 || c > 0x7e) return Errors.clientNameSpaces();
  client.name = name.length ? name.toString('latin1') : null;
  return null;
}

/** One line of CLIENT LIST / CLIENT INFO, with Redis's field names. */
/** CLIENT LIST's lines for this process's clients (all, or those of `ids`). */
export function clientListLines(ids: number[] | null, server: ServerContext): string[] {
  const now = server.now();
  return [...server.clients.values()]
    .filter((c) => ids === null || ids.includes(c.id))
    .map((c) => clientInfoLine(c, now, server.pubsub.counts(c)) + '\n');
}

export function clientInfoLine(c: ClientState, now: number, subs = { sub: 0, psub: 0, ssub: 0 }): string {
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastInteraction) / 1000);
  const multi = c.multi ? c.multi.queue.length : -1;
  return (
    `id=${c.id} addr=${c.remoteAddress} laddr=${c.localAddress} fd=-1 name=${c.name ?? ''} ` +
    `age=${age} idle=${idle} flags=${c.multi ? 'x' : c.subscriptions ? 'P' : 'N'} db=${c.db} sub=${subs.sub} psub=${subs.psub} ssub=${subs.ssub} multi=${multi} ` +
    `qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r ` +
    `cmd=${c.lastCommand} user=${c.user} redir=-1 resp=${c.protocol} lib-name=${c.libName ?? ''} lib-ver=${c.libVersion ?? ''}`
  );
}

const sub = <A>(spec: Omit<CommandSpec<A>, 'keys' | 'data' | 'group' | 'since'> & Partial<CommandSpec<A>>): CommandSpec<A> =>
  command<A>({ keys: [0, 0, 0], data: false, group: 'connection', since: '2.4.0', ...spec });

const clientSubcommands: Record<string, CommandSpec> = {
  setname: sub<Buffer>({
    name: 'client|setname',
    arity: 3,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Sets the connection name.',
    parse: (argv) => argv[2],
    run: (name, { client }) => setClientName(client, name) ?? OK,
  }),
  getname: sub<null>({
    name: 'client|getname',
    arity: 2,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Returns the name of the connection.',
    parse: () => null,
    run: (_, { client }) => (client.name === null ? null : bulk(client.name)),
  }),
  setinfo: sub<{ attr: string; value: Buffer }>({
    name: 'client|setinfo',
    arity: 4,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Sets information specific to the client or connection.',
    since: '7.2.0',
    parse(argv) {
      const attr = word(argv[2]);
      if (attr !== 'LIB-NAME' && attr !== 'LIB-VER') {
        throw new RespError(`ERR Unrecognized option '${argv[2].toString('latin1')}'`);
      }
      for (const c of argv[3]) {
        if (c < 0x21 || c > 0x7e) {
          throw new RespError(`ERR ${attr.toLowerCase()} cannot contain spaces, newlines or special characters.`);
        }
      }
      return { attr, value: argv[3] };
    },
    run({ attr, value }, { client }) {
      const text = value.length ? value.toString('latin1') : null;
      if (attr === 'LIB-NAME') client.libName = text;
      else client.libVersion = text;
      return OK;
    },
  }),
  id: sub<null>({
    name: 'client|id',
    arity: 2,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Returns the unique client ID of the connection.',
    parse: () => null,
    run: (_, { client }) => client.id,
  }),
  info: sub<null>({
    name: 'client|info',
    arity: 2,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Returns information about the connection.',
    since: '6.2.0',
    parse: () => null,
    run: (_, { client, server }) => verbatim(clientInfoLine(client, server.now(), server.pubsub.counts(client)) + '\n'),
  }),
  list: sub<number[] | null>({
    name: 'client|list',
    arity: -2,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    summary: 'Lists open connections.',
    parse(argv) {
      if (argv.length === 2) return null;
      if (argv.length >= 4 && word(argv[2]) === 'ID')
        return argv.slice(3).map((a) => integer(a, () => new RespError('ERR Invalid client ID')));
      if (argv.length === 4 && word(argv[2]) === 'TYPE') {
        const type = word(argv[3]);
        if (type === 'NORMAL') return null;
        if (type === 'MASTER' || type === 'REPLICA' || type === 'SLAVE' || type === 'PUBSUB') return [];
        throw new RespError(`ERR Unknown client type '${argv[3].toString('latin1')}'`);
      }
      throw Errors.syntax();
    },
    run(ids, { server }) {
      const lines = clientListLines(ids, server);
      if (!server.peers) return verbatim(lines.join(''));
      // Every worker's clients, in id order as one server lists them.
      return server.peers.ask('client-list', ids).then((more) => {
        const all = lines.concat(...(more as (string[] | null)[]).map((m) => m ?? []));
        const idOf = (line: string) => Number(/^id=(\d+)/.exec(line)![1]);
        return verbatim(all.sort((a, b) => idOf(a) - idOf(b)).join(''));
      });
    },
  }),
  kill: sub<Buffer[]>({
    name: 'client|kill',
    arity: -3,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    summary: 'Terminates open connections.',
    parse: (argv) => argv.slice(2),
    run: (args, { client, server }) => clientKill(args, client, server),
  }),
  reply: sub<'on' | 'off' | 'skip'>({
    name: 'client|reply',
    arity: 3,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Instructs the server whether to reply to commands.',
    since: '3.2.0',
    parse(argv) {
      const mode = argv[2].toString('latin1').toLowerCase();
      if (mode !== 'on' && mode !== 'off' && mode !== 'skip') throw Errors.syntax();
      return mode;
    },
    run(mode, { client }) {
      client.replyMode = mode;
      return mode === 'on' ? OK : NO_REPLY;
    },
  }),
  'no-evict': sub<null>({
    name: 'client|no-evict',
    arity: 3,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    summary: 'Sets the client eviction mode of the connection.',
    since: '7.0.0',
    parse(argv) {
      const v = word(argv[2]);
      if (v !== 'ON' && v !== 'OFF') throw Errors.syntax();
      return null;
    },
    run: () => OK,
  }),
  'no-touch': sub<null>({
    name: 'client|no-touch',
    arity: 3,
    flags: ['noscript', 'loading', 'stale'],
    summary: 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys.',
    since: '7.2.0',
    parse(argv) {
      const v = word(argv[2]);
      if (v !== 'ON' && v !== 'OFF') throw Errors.syntax();
      return null;
    },
    run: () => OK,
  }),
  help: sub<null>({
    name: 'client|help',
    arity: 2,
    flags: ['loading', 'stale'],
    summary: 'Returns helpful text about the different subcommands.',
    parse: () => null,
    run: () =>
      [
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        ...Object.keys(clientSubcommands).map((s) => s.toUpperCase()),
      ].map((line) => simple(line)),
  }),
};

export const client = command<null>({
  name: 'client',
  arity: -2,
  flags: [],
  keys: [0, 0, 0],
  data: false,
  summary: 'A container for client connection commands.',
  group: 'connection',
  since: '2.4.0',
  parse: () => null,
  run: () => null,
  subcommands: clientSubcommands,
});

/**
 * Redis's answer to HTTP requests sent to its port (cross-protocol attacks): `POST` and
 * `Host:` lines close the connection at once, without a reply.
 */
function securityWarning(name: string) {
  return command<null>({
    name,
    arity: -1,
    flags: ['no_auth', 'loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Closes connections that send HTTP requests.',
    group: 'connection',
    since: '3.2.0',
    parse: () => null,
    run(_, { client }) {
      client.closeAfterReply = true;
      return NO_REPLY;
    },
  });
}

export const connectionCommands = [securityWarning('post'), securityWarning('host:'), ping, echo, quit, auth, hello, reset, client];
