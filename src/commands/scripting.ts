/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FUNCTION, FCALL, FCALL_RO (Redis 7.0).
 *
 * A script runs inside its command's one engine transaction, as EXEC's queue does: every
 * redis.call goes through the same call path as EXEC's commands, with the transaction's
 * store, so no other client sees the script half done and a WATCH of a key it changed fails
 * the EXEC. Writes made before a runtime error stay (the error is the script's reply, and the
 * transaction commits), as in Redis; a script that does not compile never starts.
 */
import { Errors, RespError } from '../protocol/errors';
import { OK, bulk, map, simple, textMap, type Reply } from '../protocol/reply';
import { toWire, fromWire } from '../scripting/convert';
import { KILLED_MESSAGE } from '../scripting/runner';
import { sha1hex } from '../scripting/vm';
import type { HostRequest, Wire } from '../scripting/wire';
import { globMatch } from './glob';
import { MissingDatabase } from '../store/databases';
import { integer, word } from './args';
import { command, type CommandSpec } from './types';
import type { ClientState, CommandContext } from './context';
import type { ServerContext } from './context';

interface EvalArgs {
  /** EVAL: the body; EVALSHA: null (looked up by sha). */
  body: Buffer | null;
  sha: string;
  keys: Buffer[];
  args: Buffer[];
}

/** numkeys and the keys and arguments after it (EVAL, EVALSHA, FCALL). */
function splitKeys(argv: Buffer[]): { keys: Buffer[]; args: Buffer[] } {
  const n = integer(argv[2]);
  if (n < 0) throw new RespError("ERR Number of keys can't be negative");
  if (n > argv.length - 3) throw new RespError("ERR Number of keys can't be greater than number of args");
  return { keys: argv.slice(3, 3 + n), args: argv.slice(3 + n) };
}

/** The keys of EVAL-like commands for COMMAND GETKEYS (numkeys at argv[2]). */
export function scriptKeys(argv: Buffer[]): Buffer[] {
  return splitKeys(argv).keys;
}

/** `#!lua flags=...` at the start of an EVAL body: whether it declares no-writes. Throws Redis's errors. */
function shebangFlags(body: Buffer): { noWrites: boolean } | null {
  if (body.length < 2 || body[0] !== 0x23 || body[1] !== 0x21) return null;
  const nl = body.indexOf(0x0a);
  const line = body.subarray(2, nl < 0 ? body.length : nl).toString('latin1');
  const parts = line.split(' ').filter(Boolean);
  const engine = parts.shift() ?? '';
  if (engine !== 'lua') throw new RespError(`ERR Unexpected engine in script shebang: #!${engine}`);
  let noWrites = false;
  for (const p of parts) {
    if (!p.startsWith('flags=')) throw new RespError(`ERR Unknown lua shebang option: ${p}`);
    for (const f of p.slice(6).split(',').filter(Boolean)) {
      if (!['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'].includes(f))
        throw new RespError(`ERR Unexpected flag in script shebang: ${f}`);
      if (f === 'no-writes') noWrites = true;
    }
  }
  return { noWrites };
}

/** The command an argv names (into subcommands), or undefined. */
function lookup(server: ServerContext, argv: Buffer[]): CommandSpec<unknown> | undefined {
  const spec = server.commands.get(argv[0].toString('latin1').toLowerCase());
  if (!spec?.subcommands) return spec;
  return argv.length < 2 ? undefined : spec.subcommands[argv[1].toString('latin1').toLowerCase()];
}

const arityOk = (spec: CommandSpec<unknown>, argc: number) => (spec.arity > 0 ? argc === spec.arity : argc >= -spec.arity);

/**
 * Runs a script's job with the redis.call handler that enforces Redis's rules (scriptCall in
 * script.c) and runs each command through `call` in this command's transaction.
 */
async function runScript(
  ctx: CommandContext,
  readOnly: boolean,
  start: (onRequest: (r: HostRequest) => Promise<Wire> | Wire) => Promise<Wire>,
): Promise<Reply> {
  const { server, client, store } = ctx;
  const scripting = server.scripting;
  // The script's own client: the caller's identity, its own protocol (redis.setresp), no MULTI,
  // and its own database (a SELECT in the script is the script's, as in Redis 7).
  const scriptClient = Object.create(client, {
    db: { value: store.db, writable: true },
    protocol: { value: 2, writable: true },
    multi: { value: null, writable: true },
    closeAfterReply: { value: false, writable: true },
    replyMode: { value: 'on', writable: true },
  }) as ClientState;
  let missing: MissingDatabase | undefined;
  const onRequest = async (request: HostRequest): Promise<Wire> => {
    const argv = request.argv.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    const spec = lookup(server, argv);
    if (request.kind === 'acl') return spec ? 1 : { t: 'err', m: 'ERR Invalid command passed to redis.acl_check_cmd()' };
    if (!spec) return { t: 'err', m: 'ERR Unknown Redis command called from script' };
    if (!arityOk(spec, argv.length)) return { t: 'err', m: 'ERR Wrong number of args calling Redis command from script' };
    if (spec.flags.includes('noscript')) return { t: 'err', m: 'ERR This Redis command is not allowed from script' };
    if (spec.flags.includes('write')) {
      if (readOnly) return { t: 'err', m: 'ERR Write commands are not allowed from read-only scripts.' };
      // From now on the script cannot be killed: its writes would be left half done.
      if (scripting.runner.running) scripting.runner.running.wrote = true;
    }
    scriptClient.protocol = request.resp;
    try {
      return toWire(await server.call(spec, argv, scriptClient, store));
    } catch (err) {
      // A database not open yet: the script's result is moot, its transaction runs again once it is (see MissingDatabase).
      if (err instanceof MissingDatabase) missing ??= err;
      throw err;
    }
  };
  let wire: Wire;
  try {
    wire = await start(onRequest);
  } finally {
    // eslint-disable-next-line no-unsafe-finally -- the script's own outcome does not count then
    if (missing) throw missing;
  }
  return fromWire(wire, (value) => ({ kind: 'bool', value }));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the command table holds specs of every argument type
function buildScriptingCommands(): CommandSpec<any>[] {
  /** EVAL/EVALSHA and their _RO forms. */
  const evalFamily = (name: string, bySha: boolean, ro: boolean) =>
    command<EvalArgs>({
      name,
      arity: -3,
      flags: ro ? ['noscript', 'skip_monitor', 'stale', 'readonly'] : ['noscript', 'skip_monitor', 'may_replicate', 'stale'],
      keys: [0, 0, 0],
      data: true,
      unbounded: true,
      getKeys: scriptKeys,
      summary: bySha
        ? ro
          ? 'Executes a read-only server-side Lua script by SHA1 digest.'
          : 'Executes a server-side Lua script by SHA1 digest.'
        : ro
          ? 'Executes a read-only server-side Lua script.'
          : 'Executes a server-side Lua script.',
      group: 'scripting',
      since: ro ? '7.0.0' : '2.6.0',
      parse(argv) {
        const { keys, args } = splitKeys(argv);
        if (bySha) return { body: null, sha: argv[1].toString('latin1').toLowerCase(), keys, args };
        return { body: argv[1], sha: sha1hex(argv[1]), keys, args };
      },
      async run({ body, sha, keys, args }, ctx) {
        const scripting = ctx.server.scripting;
        let script = body ?? scripting.scripts.get(sha) ?? null;
        if (!script && sha.length === 40) {
          // Loaded through another instance on the same database, or before a restart.
          script = await ctx.store.getScript(sha);
          if (script) scripting.stored.add(sha);
        }
        if (!script) return new RespError('NOSCRIPT No matching script. Please use EVAL.');
        const shebang = shebangFlags(script);
        const readOnly = ro || Boolean(shebang?.noWrites);
        const reply = await runScript(ctx, readOnly, (onRequest) => scripting.runner.eval(sha, script, keys, args, readOnly, onRequest));
        if (reply instanceof RespError && reply.message.startsWith('ERR Error compiling script')) return reply;
        if (!scripting.scripts.has(sha)) scripting.scripts.set(sha, Buffer.from(script));
        // EVAL caches the script, as Redis does; here in the database too (EVAL_RO's
        // transaction is read-only: its script stays in this instance's memory).
        if (!ro && !scripting.stored.has(sha)) {
          await ctx.store.putScript(sha, Buffer.from(script));
          scripting.stored.add(sha);
        }
        if (reply instanceof RespError && reply.message === KILLED_MESSAGE)
          return new RespError(`${KILLED_MESSAGE} script: ${sha}, on @user_script:1.`);
        return reply;
      },
    });

  const scriptSub = <A>(spec: Omit<CommandSpec<A>, 'group' | 'since'> & { since?: string }) =>
    command<A>({ group: 'scripting', since: '2.6.0', ...spec });

  const script = command<null>({
    name: 'script',
    arity: -2,
    flags: [],
    keys: [0, 0, 0],
    data: false,
    summary: 'A container for Lua scripts management commands.',
    group: 'scripting',
    since: '2.6.0',
    parse: () => null,
    run: () => Errors.syntax(),
    subcommands: {
      load: scriptSub<Buffer>({
        name: 'script|load',
        arity: 3,
        flags: ['noscript', 'stale'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Loads a server-side Lua script to the script cache.',
        parse: (argv) => argv[2],
        async run(body, { server, store }) {
          shebangFlags(body);
          const sha = sha1hex(body);
          const scripting = server.scripting;
          await scripting.runner.compile(sha, body);
          scripting.scripts.set(sha, Buffer.from(body));
          if (!scripting.stored.has(sha)) {
            await store.putScript(sha, Buffer.from(body));
            scripting.stored.add(sha);
          }
          return bulk(sha);
        },
      }),
      exists: scriptSub<string[]>({
        name: 'script|exists',
        arity: -3,
        flags: ['noscript', 'stale'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Determines whether server-side Lua scripts exist in the script cache.',
        parse: (argv) => argv.slice(2).map((a) => a.toString('latin1').toLowerCase()),
        async run(shas, { server, store }) {
          const scripting = server.scripting;
          const missing = shas.filter((s) => !scripting.scripts.has(s));
          const found = missing.length ? await store.hasScripts(missing) : [];
          const inTable = new Set(missing.filter((_, i) => found[i]));
          return shas.map((s) => (scripting.scripts.has(s) || inTable.has(s) ? 1 : 0));
        },
      }),
      flush: scriptSub<null>({
        name: 'script|flush',
        arity: -2,
        flags: ['noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Removes all server-side Lua scripts from the script cache.',
        parse(argv) {
          if (argv.length > 3 || (argv.length === 3 && !['SYNC', 'ASYNC'].includes(word(argv[2])))) {
            throw new RespError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
          }
          return null;
        },
        async run(_, { server, store }) {
          const scripting = server.scripting;
          await store.flushScripts();
          scripting.scripts.clear();
          scripting.stored.clear();
          await scripting.runner.flushScripts();
          return OK;
        },
      }),
      kill: scriptSub<null>({
        name: 'script|kill',
        arity: 2,
        flags: ['noscript', 'allow_busy'],
        keys: [0, 0, 0],
        data: false,
        summary: 'Terminates a server-side Lua script during execution.',
        parse: () => null,
        run: (_, { server }) => server.scripting.runner.kill('eval') ?? OK,
      }),
      help: scriptSub<null>({
        name: 'script|help',
        arity: 2,
        flags: ['loading', 'stale'],
        keys: [0, 0, 0],
        data: false,
        summary: 'Returns helpful text about the different subcommands.',
        since: '5.0.0',
        parse: () => null,
        run: () =>
          [
            'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
            'EXISTS <sha1> [<sha1> ...]',
            '    Return information about the existence of the scripts in the script cache.',
            'FLUSH [ASYNC|SYNC]',
            '    Flush the Lua scripts cache. Very dangerous on replicas.',
            '    When called without the optional mode argument, the behavior is determined by the',
            '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
            '    * ASYNC: Asynchronously flush the scripts cache.',
            '    * SYNC: Synchronously flush the scripts cache.',
            'KILL',
            '    Kill the currently executing Lua script.',
            'LOAD <script>',
            '    Load a script into the scripts cache without executing it.',
            'HELP',
            '    Print this help.',
          ].map((l) => simple(l)),
      }),
    },
  });

  // ---- functions ------------------------------------------------------------------------

  interface FcallArgs {
    name: string;
    keys: Buffer[];
    args: Buffer[];
  }
  const fcallFamily = (name: string, ro: boolean) =>
    command<FcallArgs>({
      name,
      arity: -3,
      flags: ro ? ['noscript', 'skip_monitor', 'stale', 'readonly'] : ['noscript', 'skip_monitor', 'may_replicate', 'stale'],
      keys: [0, 0, 0],
      data: true,
      unbounded: true,
      getKeys: scriptKeys,
      summary: ro ? 'Invokes a read-only function.' : 'Invokes a function.',
      group: 'scripting',
      since: '7.0.0',
      parse(argv) {
        const { keys, args } = splitKeys(argv);
        return { name: argv[1].toString('latin1'), keys, args };
      },
      async run({ name: fname, keys, args }, ctx) {
        const scripting = ctx.server.scripting;
        // A function loaded through another instance, or before a restart.
        if (!scripting.functionLibrary.has(fname)) await scripting.syncLibraries(ctx.store);
        const library = scripting.functionLibrary.get(fname);
        if (!library) return new RespError('ERR Function not found');
        const info = scripting.libraries.get(library)!.functions.find((f) => f.name === fname)!;
        const noWrites = info.flags.includes('no-writes');
        if (ro && !noWrites) return new RespError('ERR Can not execute a script with write flag using *_ro command.');
        scripting.runningFunction = fname;
        try {
          const reply = await runScript(ctx, noWrites, (onRequest) =>
            scripting.runner.callFunction(fname, keys, args, noWrites, onRequest),
          );
          if (reply instanceof RespError && reply.message === KILLED_MESSAGE)
            return new RespError('ERR Script killed by user with FUNCTION KILL...');
          return reply;
        } finally {
          scripting.runningFunction = null;
        }
      },
    });

  const fsub = <A>(spec: Omit<CommandSpec<A>, 'group' | 'since'>) => command<A>({ group: 'scripting', since: '7.0.0', ...spec });

  /** FUNCTION DUMP's payload: respql's own format (not Redis's RDB encoding). */
  const DUMP_MAGIC = 'RESPQL-FUNCTIONS-1\n';

  const functionCommand = command<null>({
    name: 'function',
    arity: -2,
    flags: [],
    keys: [0, 0, 0],
    data: false,
    summary: 'A container for function commands.',
    group: 'scripting',
    since: '7.0.0',
    parse: () => null,
    run: () => Errors.syntax(),
    subcommands: {
      load: fsub<{ replace: boolean; code: Buffer }>({
        name: 'function|load',
        arity: -3,
        flags: ['write', 'denyoom', 'noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Creates a library.',
        parse(argv) {
          if (argv.length === 4 && word(argv[2]) === 'REPLACE') return { replace: true, code: argv[3] };
          if (argv.length === 3) return { replace: false, code: argv[2] };
          throw new RespError(`ERR Unknown option given: ${argv[2].toString('latin1')}`);
        },
        async run({ replace, code }, { server, store }) {
          const scripting = server.scripting;
          await scripting.syncLibraries(store);
          const name = await scripting.loadLocal(code, replace);
          await store.putLibrary(name, Buffer.from(code));
          return bulk(name);
        },
      }),
      delete: fsub<string>({
        name: 'function|delete',
        arity: 3,
        flags: ['write', 'noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Deletes a library and its functions.',
        parse: (argv) => argv[2].toString('latin1'),
        async run(name, { server, store }) {
          const scripting = server.scripting;
          await scripting.syncLibraries(store);
          if (!scripting.libraries.has(name)) return new RespError('ERR Library not found');
          await scripting.dropLocal(name);
          await store.deleteLibrary(name);
          return OK;
        },
      }),
      flush: fsub<null>({
        name: 'function|flush',
        arity: -2,
        flags: ['write', 'noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Deletes all libraries and functions.',
        parse(argv) {
          if (argv.length > 3 || (argv.length === 3 && !['SYNC', 'ASYNC'].includes(word(argv[2])))) {
            throw new RespError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
          }
          return null;
        },
        async run(_, { server, store }) {
          await store.flushLibraries();
          await server.scripting.flushLocalLibraries();
          return OK;
        },
      }),
      list: fsub<{ withCode: boolean; pattern: Buffer | null }>({
        name: 'function|list',
        arity: -2,
        flags: ['noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Returns information about all libraries.',
        parse(argv) {
          let withCode = false;
          let pattern: Buffer | null = null;
          for (let i = 2; i < argv.length; i++) {
            const w = word(argv[i]);
            if (w === 'WITHCODE' && !withCode) withCode = true;
            else if (w === 'LIBRARYNAME' && pattern === null && i + 1 < argv.length) pattern = argv[++i];
            else if (w === 'LIBRARYNAME')
              throw new RespError(
                pattern === null ? 'ERR library name argument was not given' : 'ERR Unknown argument library name given more than once',
              );
            else if (w === 'WITHCODE') throw new RespError('ERR Unknown argument withcode given more than once');
            else throw new RespError(`ERR Unknown argument ${argv[i].toString('latin1')}`);
          }
          return { withCode, pattern };
        },
        async run({ withCode, pattern }, { server, store }) {
          const scripting = server.scripting;
          await scripting.syncLibraries(store);
          const out: Reply[] = [];
          for (const [name, lib] of scripting.libraries) {
            if (pattern && !globMatch(pattern, Buffer.from(name), false)) continue;
            const fields: [Reply, Reply][] = [
              [bulk('library_name'), bulk(name)],
              [bulk('engine'), bulk('LUA')],
              [
                bulk('functions'),
                lib.functions.map((f) =>
                  textMap({
                    name: bulk(f.name),
                    description: f.description === null ? null : bulk(f.description),
                    flags: { kind: 'set', items: f.flags.map((x) => simple(x)) },
                  }),
                ),
              ],
            ];
            if (withCode) fields.push([bulk('library_code'), lib.code]);
            out.push(map(fields));
          }
          return out;
        },
      }),
      kill: fsub<null>({
        name: 'function|kill',
        arity: 2,
        flags: ['noscript', 'allow_busy'],
        keys: [0, 0, 0],
        data: false,
        summary: 'Terminates a function during execution.',
        parse: () => null,
        run: (_, { server }) => server.scripting.runner.kill('function') ?? OK,
      }),
      stats: fsub<null>({
        name: 'function|stats',
        arity: 2,
        flags: ['noscript', 'allow_busy'],
        keys: [0, 0, 0],
        data: false,
        summary: 'Returns information about a function during execution.',
        parse: () => null,
        run(_, { server }) {
          const scripting = server.scripting;
          const running = scripting.runner.running;
          let functions = 0;
          for (const lib of scripting.libraries.values()) functions += lib.functions.length;
          return textMap({
            running_script:
              running && running.kind === 'function'
                ? textMap({
                    name: bulk(scripting.runningFunction ?? ''),
                    command: [bulk('fcall'), bulk(scripting.runningFunction ?? '')],
                    duration_ms: Math.round(performance.now() - running.since),
                  })
                : null,
            engines: textMap({ LUA: textMap({ libraries_count: scripting.libraries.size, functions_count: functions }) }),
          });
        },
      }),
      dump: fsub<null>({
        name: 'function|dump',
        arity: 2,
        flags: ['noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Dumps all libraries into a serialized binary payload.',
        parse: () => null,
        async run(_, { server, store }) {
          const scripting = server.scripting;
          await scripting.syncLibraries(store);
          const codes = [...scripting.libraries.values()].map((l) => l.code.toString('base64'));
          return Buffer.from(DUMP_MAGIC + JSON.stringify(codes));
        },
      }),
      restore: fsub<{ payload: Buffer; policy: 'FLUSH' | 'APPEND' | 'REPLACE' }>({
        name: 'function|restore',
        arity: -3,
        flags: ['write', 'denyoom', 'noscript'],
        keys: [0, 0, 0],
        data: true,
        summary: 'Restores all libraries from a payload.',
        parse(argv) {
          if (argv.length > 4) throw Errors.syntax();
          const policy = argv.length === 4 ? word(argv[3]) : 'APPEND';
          if (policy !== 'FLUSH' && policy !== 'APPEND' && policy !== 'REPLACE')
            throw new RespError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
          return { payload: argv[2], policy };
        },
        async run({ payload, policy }, { server, store }) {
          const text = payload.toString('latin1');
          let codes: Buffer[];
          try {
            if (!text.startsWith(DUMP_MAGIC)) throw new Error('magic');
            codes = (JSON.parse(text.slice(DUMP_MAGIC.length)) as string[]).map((c) => Buffer.from(c, 'base64'));
          } catch {
            return new RespError('ERR payload version or checksum are wrong');
          }
          const scripting = server.scripting;
          await scripting.syncLibraries(store);
          // Validate every library first (names, conflicts), so that a bad payload changes nothing.
          const names: string[] = [];
          for (const code of codes) {
            const { library } = await scripting.runner.loadLibrary(code, true, true);
            if (policy === 'APPEND' && scripting.libraries.has(library)) return new RespError(`ERR Library ${library} already exists`);
            names.push(library);
          }
          if (policy === 'FLUSH') {
            await store.flushLibraries();
            await scripting.flushLocalLibraries();
          }
          for (let i = 0; i < codes.length; i++) {
            await scripting.loadLocal(codes[i], true);
            await store.putLibrary(names[i], codes[i]);
          }
          return OK;
        },
      }),
      help: fsub<null>({
        name: 'function|help',
        arity: 2,
        flags: ['loading', 'stale'],
        keys: [0, 0, 0],
        data: false,
        summary: 'Returns helpful text about the different subcommands.',
        parse: () => null,
        run: () =>
          [
            'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
            'LOAD [REPLACE] <FUNCTION CODE>',
            'DELETE <LIBRARY NAME>',
            'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
            'FLUSH [ASYNC|SYNC]',
            'KILL',
            'STATS',
            'DUMP',
            'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
            'HELP',
          ].map((l) => simple(l)),
      }),
    },
  });

  return [
    evalFamily('eval', false, false),
    evalFamily('evalsha', true, false),
    evalFamily('eval_ro', false, true),
    evalFamily('evalsha_ro', true, true),
    script,
    fcallFamily('fcall', false),
    fcallFamily('fcall_ro', true),
    functionCommand,
  ];
}

export const scriptingCommands = buildScriptingCommands();
