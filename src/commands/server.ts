import os from 'node:os';
import { ConfigReasons, Errors, RespError } from '../protocol/errors';
import { bulk, map, NO_REPLY, OK, simple, textMap, verbatim, type Reply } from '../protocol/reply';
import type { Store } from '../store/store';
import { word } from './args';
import { REDIS_COMPAT_VERSION } from './connection';
import type { ServerContext } from './context';
import { globMatch } from './glob';
import { keyArguments } from './pipeline';
import { command, type CommandFlag, type CommandSpec } from './types';
import { configName, InvalidValue, RUNTIME_SETTINGS, type Setting } from '../settings';

const INFO_DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'keyspace'];
// Like Redis's `all`: the default sections plus commandstats (what redis_exporter asks for).
const INFO_ALL_SECTIONS = [...INFO_DEFAULT_SECTIONS, 'commandstats', 'respql'];

export type InfoFields = Record<string, string | number>;

/** INFO sections whose figures are this process's: with `--workers`, each worker's are summed. */
const PER_PROCESS_SECTIONS = ['clients', 'stats'];
/** Fields of those sections that are settings, not counts (the same on every worker). */
const NOT_SUMMED = new Set(['maxclients']);

/** INFO's clients and stats sections of this process (what another worker asks for to add up). */
export function perProcessInfo(server: ServerContext, sections: string[]): (InfoFields | null)[] {
  return sections.filter((name) => PER_PROCESS_SECTIONS.includes(name)).map((name) => processSection(name, server));
}

/** INFO clients and stats: this process's connections and figures. */
function processSection(name: string, server: ServerContext): InfoFields | null {
  switch (name) {
    case 'clients':
      return {
        connected_clients: server.clients.size,
        cluster_connections: 0,
        maxclients: server.config.limits.maxClients,
        client_recent_max_input_buffer: 0,
        client_recent_max_output_buffer: 0,
        blocked_clients: 0,
        tracking_clients: 0,
        clients_in_timeout_table: 0,
      };
    case 'stats': {
      const s = server.stats;
      return {
        total_connections_received: s.connectionsReceived,
        total_commands_processed: s.commandsProcessed,
        instantaneous_ops_per_sec: server.rates.opsPerSec(),
        total_net_input_bytes: s.netInputBytes,
        total_net_output_bytes: s.netOutputBytes,
        instantaneous_input_kbps: server.rates.inputKbps().toFixed(2),
        instantaneous_output_kbps: server.rates.outputKbps().toFixed(2),
        rejected_connections: s.rejectedConnections,
        // Expired keys found by commands or deleted by the sweeper, each once (see ExpiredKeys).
        expired_keys: server.engine.expiredKeys.count,
        evicted_keys: 0,
        // Read lookups, as Redis's lookupKeyRead counts them (see KeyLookups).
        keyspace_hits: s.keyspaceHits,
        keyspace_misses: s.keyspaceMisses,
        total_error_replies: s.errorReplies,
      };
    }
    default:
      return null;
  }
}

/** Adds the other workers' figures of a per-process section to this one's (rates keep their decimals). */
function addUp(fields: InfoFields, others: InfoFields[]): InfoFields {
  const sum: InfoFields = { ...fields };
  for (const [k, v] of Object.entries(fields)) {
    if (NOT_SUMMED.has(k)) continue;
    const total = others.reduce((n, o) => n + Number(o[k] ?? 0), Number(v));
    sum[k] = typeof v === 'string' ? total.toFixed(2) : total;
  }
  return sum;
}

async function infoSection(name: string, server: ServerContext, store: Store): Promise<InfoFields | null> {
  const now = server.now();
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  switch (name) {
    case 'server':
      return {
        redis_version: REDIS_COMPAT_VERSION,
        respql_version: server.version,
        redis_mode: 'standalone',
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        arch_bits: 64,
        process_id: process.pid,
        tcp_port: server.config.port,
        server_time_usec: now * 1000,
        uptime_in_seconds: Math.floor((now - server.startedAt) / 1000),
        uptime_in_days: Math.floor((now - server.startedAt) / 86400000),
        executable: process.argv[1] ?? '',
        storage_backend: server.engine.backend,
        storage_table: server.config.table,
      };
    case 'clients':
    case 'stats':
      return processSection(name, server);
    case 'memory':
      return {
        used_memory: mem.heapUsed,
        used_memory_human: `${(mem.heapUsed / 1048576).toFixed(2)}M`,
        used_memory_rss: mem.rss,
        used_memory_rss_human: `${(mem.rss / 1048576).toFixed(2)}M`,
        used_memory_peak: mem.heapTotal,
        total_system_memory: os.totalmem(),
        maxmemory: 0,
        maxmemory_policy: 'noeviction',
        mem_fragmentation_ratio: (mem.rss / Math.max(1, mem.heapUsed)).toFixed(2),
      };
    case 'persistence':
      return {
        loading: 0,
        async_loading: 0,
        rdb_changes_since_last_save: 0,
        rdb_bgsave_in_progress: 0,
        rdb_last_save_time: Math.floor(now / 1000),
        rdb_last_bgsave_status: 'ok',
        aof_enabled: 1,
        aof_rewrite_in_progress: 0,
        aof_last_write_status: 'ok',
      };
    case 'replication':
      return { role: 'master', connected_slaves: 0 };
    case 'cpu':
      return {
        used_cpu_sys: (cpu.system / 1e6).toFixed(6),
        used_cpu_user: (cpu.user / 1e6).toFixed(6),
      };
    case 'keyspace': {
      // One line per database with keys, in every instance's registry of databases.
      const fields: InfoFields = {};
      for (const db of await store.databases()) {
        const { keys, expires, avgTtl } = await store.database(db).expiryStats();
        if (keys) fields[`db${db}`] = `keys=${keys},expires=${expires},avg_ttl=${avgTtl}`;
      }
      return fields;
    }
    case 'commandstats': {
      const fields: InfoFields = {};
      for (const c of server.commandStats.used()) {
        const usec = Math.round(c.usec);
        const perCall = (c.calls ? c.usec / c.calls : 0).toFixed(2);
        fields[`cmdstat_${c.name}`] =
          `calls=${c.calls},usec=${usec},usec_per_call=${perCall},rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`;
      }
      return fields;
    }
    case 'respql': {
      const e = server.engine.stats;
      return {
        sql_statements: e.statements,
        sql_statement_errors: e.statementErrors,
        sql_transactions: e.transactions,
        sql_batched_commands: e.batchedWork,
        sql_max_batch: e.maxBatch,
        // SQLite: fdatasyncs of the WAL that made commits durable before their replies (0 on PostgreSQL, whose COMMIT flushes).
        sql_wal_flushes: server.engine.walFlushes,
        // SQLite: checkpoints that copied the WAL back into the database file, beside the server.
        sql_wal_checkpoints: server.engine.walCheckpoints,
        // Batches failed at --database-timeout (their connection was cut).
        sql_timeouts: e.timeouts,
        // Batches run again because the database undid them whole (serialization failure, deadlock).
        sql_retries: e.retries,
        sweeper_runs: server.sweeper.runs,
        sweeper_deleted_keys: server.sweeper.deleted,
        sweeper_last_duration_ms: server.sweeper.lastDurationMs,
        sweeper_instance: server.sweeper.instanceId,
        sweeper_lease_holder: server.sweeper.leaseHolder,
        sweeper_lease_held: server.sweeper.leaseHeld ? 1 : 0,
      };
    }
    default:
      return null;
  }
}

export const info = command<string[]>({
  name: 'info',
  arity: -1,
  flags: ['loading', 'stale'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Returns information and statistics about the server.',
  group: 'server',
  since: '1.0.0',
  parse(argv) {
    const asked = argv.slice(1).map((a) => a.toString('latin1').toLowerCase());
    if (!asked.length || asked.includes('default')) return INFO_DEFAULT_SECTIONS;
    if (asked.includes('all') || asked.includes('everything')) return INFO_ALL_SECTIONS;
    // Each section once, in Redis's order, whatever the order asked.
    return INFO_ALL_SECTIONS.filter((name) => asked.includes(name));
  },
  async run(sections, { server, store }) {
    const parts: string[] = [];
    const peers = server.peers ? ((await server.peers.ask('info', sections)) as ((InfoFields | null)[] | null)[]) : [];
    const perProcess = sections.filter((name) => PER_PROCESS_SECTIONS.includes(name));
    for (const name of sections) {
      let fields = await infoSection(name, server, store);
      if (!fields) continue;
      const i = perProcess.indexOf(name);
      if (i !== -1 && peers.length)
        fields = addUp(
          fields,
          peers.map((p) => p?.[i] ?? {}),
        );
      const title = name === 'respql' ? 'Respql' : name[0].toUpperCase() + name.slice(1);
      parts.push(
        `# ${title}\r\n` +
          Object.entries(fields)
            .map(([k, v]) => `${k}:${v}\r\n`)
            .join(''),
      );
    }
    return verbatim(parts.join('\r\n'));
  },
});

export const dbsize = command<null>({
  name: 'dbsize',
  arity: 1,
  flags: ['readonly', 'fast'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Returns the number of keys in the database.',
  group: 'server',
  since: '1.0.0',
  parse: () => null,
  run: (_, { store }) => store.count(),
});

export const time = command<null>({
  name: 'time',
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Returns the server time.',
  group: 'server',
  since: '2.6.0',
  parse: () => null,
  run(_, { server }) {
    const now = server.now();
    return [bulk(String(Math.floor(now / 1000))), bulk(String((now % 1000) * 1000))];
  },
});

/** CONFIG GET's text of a setting's current value. */
function shownValue(s: Setting, server: ServerContext): string {
  const access = s.runtime!;
  return access.shown ?? s.type.show(access.get(server.config));
}

/**
 * CONFIG SET name value [name value ...], as Redis 7.0's configSetCommand: names are looked
 * up in order, and the first unknown, immutable or repeated one is the error; then each
 * value is checked, and only when all are good are they all applied.
 */
/** CONFIG RESETSTAT on this process. */
export function resetStats(server: ServerContext): void {
  const s = server.stats;
  for (const k of Object.keys(s) as (keyof typeof s)[]) s[k] = 0;
  server.commandStats.reset();
  server.engine.expiredKeys.reset();
}

export function configSet(args: Buffer[], server: ServerContext): Reply {
  let refused: RespError | null = null;
  const pairs: { setting: Setting; value: string }[] = [];
  for (let i = 0; i < args.length && !refused; i += 2) {
    const given = args[i].toString('latin1');
    const setting = RUNTIME_SETTINGS.get(given.toLowerCase());
    if (!setting) refused = Errors.configUnknownOption(given);
    else if (setting.runtime!.immutable) refused = Errors.configSetFailed(given, ConfigReasons.immutable);
    else if (pairs.some((p) => p.setting === setting)) refused = Errors.configSetFailed(given, ConfigReasons.duplicate);
    else pairs.push({ setting, value: args[i + 1].toString('utf8') });
  }
  if (refused) return refused;
  const appliers: (() => void)[] = [];
  for (const { setting, value } of pairs) {
    const name = configName(setting);
    let parsed: unknown;
    try {
      parsed = setting.type.parse(value);
    } catch (err) {
      if (err instanceof InvalidValue) return Errors.configSetFailed(name, err.message);
      throw err;
    }
    const runtime = setting.runtime!;
    if (runtime.set) appliers.push(() => runtime.set!(server.config, parsed));
    // Settings respql fixes (Redis could change them): only their current value is taken.
    else if (setting.type.show(parsed) !== setting.type.show(setting.runtime!.get(server.config))) {
      return Errors.configSetFailed(name, ConfigReasons.immutable);
    }
  }
  for (const apply of appliers) apply();
  server.applyConfig();
  return OK;
}

const configSubcommands: Record<string, CommandSpec> = {
  get: command<Buffer[]>({
    name: 'config|get',
    arity: -3,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Returns the effective values of configuration parameters.',
    group: 'server',
    since: '2.0.0',
    parse: (argv) => argv.slice(2),
    run(patterns, { server }) {
      const names = [...RUNTIME_SETTINGS.keys()].filter((name) => patterns.some((p) => globMatch(p, Buffer.from(name), true)));
      return map(names.map((name) => [bulk(name), bulk(shownValue(RUNTIME_SETTINGS.get(name)!, server))] as const));
    },
  }),
  set: command<Buffer[]>({
    name: 'config|set',
    arity: -4,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Sets configuration parameters in-flight.',
    group: 'server',
    since: '2.0.0',
    parse(argv) {
      if (argv.length % 2 !== 0) throw Errors.syntax();
      return argv.slice(2);
    },
    run(args, { server }) {
      const reply = configSet(args, server);
      if (reply !== OK || !server.peers) return reply;
      // Every worker takes the new values (each checks them as this one did).
      return server.peers.ask('config-set', args).then(() => reply);
    },
  }),
  resetstat: command<null>({
    name: 'config|resetstat',
    arity: 2,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: "Resets the server's statistics.",
    group: 'server',
    since: '2.0.0',
    parse: () => null,
    run(_, { server }) {
      resetStats(server);
      return server.peers ? server.peers.ask('config-resetstat', null).then(() => OK) : OK;
    },
  }),
};

export const config = command<null>({
  name: 'config',
  arity: -2,
  flags: [],
  keys: [0, 0, 0],
  data: false,
  summary: 'A container for server configuration commands.',
  group: 'server',
  since: '2.0.0',
  parse: () => null,
  run: () => null,
  subcommands: configSubcommands,
});

/** Every spec, containers' subcommands included, for COMMAND. */
function allSpecs(server: ServerContext): CommandSpec<unknown>[] {
  return [...server.commands.values()];
}

/** Command flags in the order Redis lists them (its flag bits). */
const FLAG_ORDER: CommandFlag[] = [
  'write',
  'readonly',
  'denyoom',
  'admin',
  'pubsub',
  'noscript',
  'blocking',
  'loading',
  'stale',
  'skip_monitor',
  'skip_slowlog',
  'fast',
  'no_auth',
  'may_replicate',
  'no_multi',
  'allow_busy',
  'movablekeys',
];

/** Redis's ACL categories, in the order Redis lists them. */
const ACL_ORDER = ['keyspace', 'read', 'write', 'set', 'hash', 'string', 'admin', 'fast', 'slow', 'dangerous', 'connection', 'transaction'];
const GROUP_CATEGORY: Record<string, string> = {
  generic: 'keyspace',
  string: 'string',
  hash: 'hash',
  set: 'set',
  connection: 'connection',
  transactions: 'transaction',
};
/** Commands that Redis's command table marks KEYSPACE or DANGEROUS beyond what their group and flags say. */
const EXTRA_CATEGORIES: Record<string, string[]> = {
  dbsize: ['keyspace'],
  flushdb: ['keyspace', 'dangerous'],
  flushall: ['keyspace', 'dangerous'],
  swapdb: ['keyspace', 'dangerous'],
  keys: ['dangerous'],
  info: ['dangerous'],
  lastsave: ['admin', 'dangerous'],
};

/** A command's ACL categories (without '@'): from its group, its flags (as Redis's setImplicitACLCategories) and the table above. */
function aclCategories(spec: CommandSpec<unknown>): string[] {
  const found = new Set(EXTRA_CATEGORIES[spec.name] ?? []);
  if (GROUP_CATEGORY[spec.group] && !spec.subcommands) found.add(GROUP_CATEGORY[spec.group]);
  if (spec.flags.includes('write')) found.add('write');
  if (spec.flags.includes('readonly')) found.add('read');
  if (spec.flags.includes('admin')) found.add('admin').add('dangerous');
  found.add(spec.flags.includes('fast') ? 'fast' : 'slow');
  return ACL_ORDER.filter((c) => found.has(c));
}

/** COMMAND INFO's 10-element description of a command. */
function commandInfo(spec: CommandSpec<unknown>): Reply {
  const [first, last, step] = spec.keys;
  const categories = aclCategories(spec);
  return [
    bulk(spec.name),
    spec.arity,
    { kind: 'set', items: FLAG_ORDER.filter((f) => spec.flags.includes(f)).map((f) => simple(f)) },
    first,
    last,
    step,
    { kind: 'set', items: categories.map((c) => simple(`@${c}`)) },
    [],
    [],
    Object.values(spec.subcommands ?? {}).map(commandInfo),
  ];
}

function commandDocs(spec: CommandSpec<unknown>): Reply {
  const fields: Record<string, Reply> = {
    summary: bulk(spec.summary),
    since: bulk(spec.since),
    group: bulk(spec.group),
  };
  if (spec.subcommands) {
    fields.subcommands = map(Object.values(spec.subcommands).map((s) => [bulk(s.name), commandDocs(s)] as const));
  }
  return textMap(fields);
}

const lookup = (server: ServerContext, name: Buffer) => server.commands.get(name.toString('latin1').toLowerCase());

const commandSubcommands: Record<string, CommandSpec> = {
  count: command<null>({
    name: 'command|count',
    arity: 2,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Returns a count of commands.',
    group: 'server',
    since: '2.8.13',
    parse: () => null,
    run: (_, { server }) => server.commands.size,
  }),
  info: command<Buffer[]>({
    name: 'command|info',
    arity: -2,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Returns information about one, multiple or all commands.',
    group: 'server',
    since: '2.8.13',
    parse: (argv) => argv.slice(2),
    run(names, { server }) {
      if (!names.length) return allSpecs(server).map(commandInfo);
      return names.map((n) => {
        const spec = lookup(server, n);
        return spec ? commandInfo(spec) : null;
      });
    },
  }),
  docs: command<Buffer[]>({
    name: 'command|docs',
    arity: -2,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Returns documentary information about one, multiple or all commands.',
    group: 'server',
    since: '7.0.0',
    parse: (argv) => argv.slice(2),
    run(names, { server }) {
      const specs = names.length
        ? names.map((n) => lookup(server, n)).filter((s): s is CommandSpec<unknown> => s !== undefined)
        : allSpecs(server);
      return map(specs.map((s) => [bulk(s.name), commandDocs(s)] as const));
    },
  }),
  list: command<{ by: 'PATTERN' | 'ACLCAT' | 'MODULE'; value: Buffer } | null>({
    name: 'command|list',
    arity: -2,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Returns a list of command names.',
    group: 'server',
    since: '7.0.0',
    parse(argv) {
      if (argv.length === 2) return null;
      const by = argv.length === 5 && word(argv[2]) === 'FILTERBY' ? word(argv[3]) : null;
      if (by === 'PATTERN' || by === 'ACLCAT' || by === 'MODULE') return { by, value: argv[4] };
      throw Errors.syntax();
    },
    run(filter, { server }) {
      // Subcommands too, by their full names (config|get), as Redis 7.0 lists them.
      const specs = allSpecs(server).flatMap((s) => [s, ...Object.values(s.subcommands ?? {})]);
      const keep = (s: CommandSpec<unknown>): boolean => {
        if (filter === null) return true;
        if (filter.by === 'PATTERN') return globMatch(filter.value, Buffer.from(s.name), true);
        if (filter.by === 'ACLCAT') return aclCategories(s).includes(filter.value.toString('latin1').toLowerCase());
        return false; // no modules
      };
      return specs.filter(keep).map((s) => bulk(s.name));
    },
  }),
  getkeys: command<Buffer[]>({
    name: 'command|getkeys',
    arity: -4,
    flags: ['loading', 'stale'],
    keys: [0, 0, 0],
    data: false,
    summary: 'Extracts the key names from an arbitrary command.',
    group: 'server',
    since: '2.8.13',
    parse: (argv) => argv.slice(2),
    run(argv, { server }) {
      const spec = lookup(server, argv[0]);
      if (!spec) return new RespError('ERR Invalid command specified');
      if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
        return new RespError('ERR Invalid number of arguments specified for command');
      }
      if (spec.getKeys) return spec.getKeys(argv);
      if (spec.keys[0] === 0) return new RespError('ERR The command has no key arguments');
      return keyArguments(spec, argv);
    },
  }),
};

export const commandCommand = command<null>({
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Returns detailed information about all commands.',
  group: 'server',
  since: '2.8.13',
  parse: () => null,
  run: (_, { server }) => allSpecs(server).map(commandInfo),
  subcommands: commandSubcommands,
});

/** LASTSAVE: every acknowledged write is already committed, so the data was last saved just now. */
export const lastsave = command<null>({
  name: 'lastsave',
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Returns the Unix timestamp of the last successful save to disk.',
  group: 'server',
  since: '1.0.0',
  parse: () => null,
  run: (_, { server }) => Math.floor(server.now() / 1000),
});

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], Redis's syntax. Every write is committed
 * before its reply, so there is nothing to save and no replica to wait for: the options are
 * checked and accepted, and the server closes gracefully (in-flight commands reply first).
 * Like Redis, the client gets no reply: its connection closes.
 */
export const shutdown = command<{ abort: boolean; nosave: boolean }>({
  name: 'shutdown',
  arity: -1,
  flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Synchronously saves the database(s) to disk and shuts down the Redis server.',
  group: 'server',
  since: '1.0.0',
  parse(argv) {
    const seen = new Set(argv.slice(1).map(word));
    for (const option of seen) if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].includes(option)) throw Errors.syntax();
    const abort = seen.has('ABORT');
    if ((abort && seen.size > 1) || (seen.has('NOSAVE') && seen.has('SAVE'))) throw Errors.syntax();
    return { abort, nosave: seen.has('NOSAVE') };
  },
  run({ abort, nosave }, { client, server }) {
    // A shutdown in progress closes every connection at once, so none is ever left to abort.
    if (abort) return Errors.noShutdownInProgress();
    // While a script is busy only SHUTDOWN NOSAVE goes through, as in Redis.
    const busy = nosave ? null : server.scripting.busy();
    if (busy) return busy;
    client.closeAfterReply = true;
    server.requestShutdown(`User requested shutdown (SHUTDOWN from ${client.remoteAddress})`);
    return NO_REPLY;
  },
});

export const serverCommands = [info, dbsize, time, lastsave, config, commandCommand, shutdown];
