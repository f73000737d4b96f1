import os from 'node:os';
import { Errors, RespError } from '../protocol/errors';
import { bulk, map, OK, simple, textMap, verbatim, type Reply } from '../protocol/reply';
import type { ServerContext } from '../server/context';
import type { Store } from '../store/store';
import { word } from './args';
import { REDIS_COMPAT_VERSION } from './connection';
import { globMatch } from './glob';
import { keyArguments } from './pipeline';
import { command, type CommandSpec } from './types';

const INFO_DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'keyspace'];
// Like Redis's `all`: the default sections plus commandstats (what redis_exporter asks for).
const INFO_ALL_SECTIONS = [...INFO_DEFAULT_SECTIONS, 'commandstats', 'respql'];

type InfoFields = Record<string, string | number>;

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
        storage_backend: server.engine.dialect.name,
        storage_table: server.config.table,
      };
    case 'clients':
      return {
        connected_clients: server.clients.size,
        maxclients: server.config.limits.maxClients,
        blocked_clients: 0,
        tracking_clients: 0,
      };
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
        expired_keys: server.sweeper.deleted,
        evicted_keys: 0,
        keyspace_hits: s.keyspaceHits,
        keyspace_misses: s.keyspaceMisses,
        total_error_replies: s.errorReplies,
      };
    }
    case 'replication':
      return { role: 'master', connected_slaves: 0 };
    case 'cpu':
      return {
        used_cpu_sys: (cpu.system / 1e6).toFixed(6),
        used_cpu_user: (cpu.user / 1e6).toFixed(6),
      };
    case 'keyspace': {
      const { keys, expires, avgTtl } = await store.expiryStats();
      return keys ? { db0: `keys=${keys},expires=${expires},avg_ttl=${avgTtl}` } : {};
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
  name: 'info', arity: -1, flags: ['loading', 'stale'], keys: [0, 0, 0], data: true,
  summary: 'Returns information and statistics about the server.', group: 'server', since: '1.0.0',
  parse(argv) {
    const asked = argv.slice(1).map((a) => a.toString('latin1').toLowerCase());
    if (!asked.length || asked.includes('default')) return INFO_DEFAULT_SECTIONS;
    if (asked.includes('all') || asked.includes('everything')) return INFO_ALL_SECTIONS;
    return asked;
  },
  async run(sections, { server, store }) {
    const parts: string[] = [];
    for (const name of sections) {
      const fields = await infoSection(name, server, store);
      if (!fields) continue;
      const title = name === 'respql' ? 'Respql' : name[0].toUpperCase() + name.slice(1);
      parts.push(`# ${title}\r\n` + Object.entries(fields).map(([k, v]) => `${k}:${v}\r\n`).join(''));
    }
    return verbatim(parts.join('\r\n'));
  },
});

export const dbsize = command<null>({
  name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], keys: [0, 0, 0], data: true,
  summary: 'Returns the number of keys in the database.', group: 'server', since: '1.0.0',
  parse: () => null,
  run: (_, { store }) => store.count(),
});

export const time = command<null>({
  name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], keys: [0, 0, 0], data: false,
  summary: 'Returns the server time.', group: 'server', since: '2.6.0',
  parse: () => null,
  run(_, { server }) {
    const now = server.now();
    return [bulk(String(Math.floor(now / 1000))), bulk(String((now % 1000) * 1000))];
  },
});

/** CONFIG GET values, by Redis's parameter names. */
function configValues(server: ServerContext): Record<string, string> {
  const c = server.config;
  return {
    bind: c.bind,
    port: String(c.port),
    databases: '1',
    // respql commits every write before replying: the durability of appendfsync always.
    appendonly: 'yes',
    appendfsync: 'always',
    save: '',
    // Never the password itself.
    requirepass: '',
    timeout: String(c.limits.idleTimeoutSeconds),
    maxclients: String(c.limits.maxClients),
    maxmemory: '0',
    'maxmemory-policy': 'noeviction',
    'proto-max-bulk-len': String(c.limits.protoMaxBulkLen),
    'client-query-buffer-limit': String(c.limits.queryBufferLimit),
    'client-output-buffer-limit': `normal ${c.limits.outputBufferLimit} 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60`,
    'protected-mode': c.protectedMode ? 'yes' : 'no',
    loglevel: 'notice',
    'respql-table': c.table,
    'respql-cleanup-interval': String(c.cleanupIntervalMs),
  };
}

const configSubcommands: Record<string, CommandSpec<any>> = {
  get: command<Buffer[]>({
    name: 'config|get', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Returns the effective values of configuration parameters.', group: 'server', since: '2.0.0',
    parse: (argv) => argv.slice(2),
    run(patterns, { server }) {
      const values = configValues(server);
      const entries = Object.entries(values).filter(([name]) => patterns.some((p) => globMatch(p, Buffer.from(name), true)));
      return map(entries.map(([k, v]) => [bulk(k), bulk(v)] as const));
    },
  }),
  resetstat: command<null>({
    name: 'config|resetstat', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Resets the server\'s statistics.', group: 'server', since: '2.0.0',
    parse: () => null,
    run(_, { server }) {
      const s = server.stats;
      for (const k of Object.keys(s) as (keyof typeof s)[]) s[k] = 0;
      server.commandStats.reset();
      return OK;
    },
  }),
};

export const config = command<null>({
  name: 'config', arity: -2, flags: [], keys: [0, 0, 0], data: false,
  summary: 'A container for server configuration commands.', group: 'server', since: '2.0.0',
  parse: () => null,
  run: () => null,
  subcommands: configSubcommands,
});

/** Every spec, containers' subcommands included, for COMMAND. */
function allSpecs(server: ServerContext): CommandSpec<unknown>[] {
  return [...server.commands.values()];
}

/** COMMAND INFO's 10-element description of a command. */
function commandInfo(spec: CommandSpec<unknown>): Reply {
  const [first, last, step] = spec.keys;
  const categories = new Set<string>();
  if (spec.flags.includes('write')) categories.add('@write');
  if (spec.flags.includes('readonly')) categories.add('@read');
  if (spec.flags.includes('fast')) categories.add('@fast');
  else categories.add('@slow');
  if (spec.flags.includes('admin')) categories.add('@admin');
  if (spec.group === 'string') categories.add('@string');
  if (spec.group === 'generic') categories.add('@keyspace');
  if (spec.group === 'connection') categories.add('@connection');
  return [
    bulk(spec.name),
    spec.arity,
    { kind: 'set', items: spec.flags.map((f) => simple(f)) },
    first,
    last,
    step,
    { kind: 'set', items: [...categories].map((c) => simple(c)) },
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

const commandSubcommands: Record<string, CommandSpec<any>> = {
  count: command<null>({
    name: 'command|count', arity: 2, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Returns a count of commands.', group: 'server', since: '2.8.13',
    parse: () => null,
    run: (_, { server }) => server.commands.size,
  }),
  info: command<Buffer[]>({
    name: 'command|info', arity: -2, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Returns information about one, multiple or all commands.', group: 'server', since: '2.8.13',
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
    name: 'command|docs', arity: -2, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Returns documentary information about one, multiple or all commands.', group: 'server', since: '7.0.0',
    parse: (argv) => argv.slice(2),
    run(names, { server }) {
      const specs = names.length
        ? names.map((n) => lookup(server, n)).filter((s): s is CommandSpec<unknown> => s !== undefined)
        : allSpecs(server);
      return map(specs.map((s) => [bulk(s.name), commandDocs(s)] as const));
    },
  }),
  list: command<Buffer | null>({
    name: 'command|list', arity: -2, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Returns a list of command names.', group: 'server', since: '7.0.0',
    parse(argv) {
      if (argv.length === 2) return null;
      if (argv.length === 5 && word(argv[2]) === 'FILTERBY' && word(argv[3]) === 'PATTERN') {
        return argv[4];
      }
      throw Errors.syntax();
    },
    run: (pattern, { server }) =>
      [...server.commands.keys()].filter((n) => pattern === null || globMatch(pattern, Buffer.from(n))).map((n) => bulk(n)),
  }),
  getkeys: command<Buffer[]>({
    name: 'command|getkeys', arity: -3, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
    summary: 'Extracts the key names from an arbitrary command.', group: 'server', since: '2.8.13',
    parse: (argv) => argv.slice(2),
    run(argv, { server }) {
      const spec = lookup(server, argv[0]);
      if (!spec) return new RespError('ERR Invalid command specified');
      if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
        return new RespError('ERR Invalid number of arguments specified for command');
      }
      if (spec.keys[0] === 0) return new RespError('ERR The command has no key arguments');
      return keyArguments(spec, argv);
    },
  }),
};

export const commandCommand = command<null>({
  name: 'command', arity: -1, flags: ['loading', 'stale'], keys: [0, 0, 0], data: false,
  summary: 'Returns detailed information about all commands.', group: 'server', since: '2.8.13',
  parse: () => null,
  run: (_, { server }) => allSpecs(server).map(commandInfo),
  subcommands: commandSubcommands,
});

export const serverCommands = [info, dbsize, time, config, commandCommand];
