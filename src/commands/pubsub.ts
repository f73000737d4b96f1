/** Pub/sub commands (Redis 7.0): the state lives in the server's PubSubHub (src/pubsub/hub.ts). */
import { Errors } from '../protocol/errors';
import { simple, type Reply } from '../protocol/reply';
import type { SubscriptionKind } from '../pubsub/hub';
import { command, type CommandSpec } from './types';
import type { ServerContext } from './context';

const PUBSUB_FLAGS = ['pubsub', 'noscript', 'loading', 'stale'] as const;

function subscribeCommand(name: string, kind: SubscriptionKind, since: string, summary: string) {
  return command<Buffer[]>({
    name,
    arity: -2,
    flags: PUBSUB_FLAGS,
    keys: kind === 'shard' ? [1, -1, 1] : [0, 0, 0],
    data: false,
    summary,
    group: 'pubsub',
    since,
    parse: (argv) => argv.slice(1),
    run: (names, { client, server }) => server.pubsub.subscribe(client, kind, names),
  });
}

function unsubscribeCommand(name: string, kind: SubscriptionKind, since: string, summary: string) {
  return command<Buffer[]>({
    name,
    arity: -1,
    flags: PUBSUB_FLAGS,
    keys: kind === 'shard' ? [1, -1, 1] : [0, 0, 0],
    data: false,
    summary,
    group: 'pubsub',
    since,
    parse: (argv) => argv.slice(1),
    run: (names, { client, server }) => server.pubsub.unsubscribe(client, kind, names),
  });
}

export const subscribe = subscribeCommand('subscribe', 'channel', '2.0.0', 'Listens for messages published to channels.');
export const psubscribe = subscribeCommand(
  'psubscribe',
  'pattern',
  '2.0.0',
  'Listens for messages published to channels that match one or more patterns.',
);
export const ssubscribe = subscribeCommand('ssubscribe', 'shard', '7.0.0', 'Listens for messages published to shard channels.');
export const unsubscribe = unsubscribeCommand('unsubscribe', 'channel', '2.0.0', 'Stops listening to messages posted to channels.');
export const punsubscribe = unsubscribeCommand(
  'punsubscribe',
  'pattern',
  '2.0.0',
  'Stops listening to messages published to channels that match one or more patterns.',
);
export const sunsubscribe = unsubscribeCommand('sunsubscribe', 'shard', '7.0.0', 'Stops listening to messages posted to shard channels.');

function publishCommand(name: string, shard: boolean, since: string, summary: string) {
  return command<{ channel: Buffer; message: Buffer }>({
    name,
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast', ...(shard ? [] : ['may_replicate' as const])],
    keys: shard ? [1, 1, 1] : [0, 0, 0],
    data: false,
    summary,
    group: 'pubsub',
    since,
    parse: (argv) => ({ channel: argv[1], message: argv[2] }),
    run: ({ channel, message }, { server }) => server.pubsub.publish(shard, channel, message),
  });
}

export const publish = publishCommand('publish', false, '2.0.0', 'Posts a message to a channel.');
export const spublish = publishCommand('spublish', true, '7.0.0', 'Post a message to a shard channel');

/** PUBSUB CHANNELS / SHARDCHANNELS: with `--workers`, the channels of every worker, each once. */
function channels(server: ServerContext, shard: boolean, pattern: Buffer | null): Reply | Promise<Reply> {
  const here = server.pubsub.channels(shard, pattern);
  if (!server.peers) return here;
  return server.peers.ask('pubsub-channels', [shard, pattern]).then((more) => {
    const all = new Map<string, Buffer>();
    for (const name of [here, ...(more as Buffer[][])].flat()) all.set(name.toString('latin1'), name);
    return [...all.values()];
  });
}

/** PUBSUB NUMSUB / SHARDNUMSUB: with `--workers`, each channel's subscribers on every worker. */
function numsub(server: ServerContext, shard: boolean, names: Buffer[]): Reply | Promise<Reply> {
  const here = server.pubsub.numsub(shard, names);
  if (!server.peers) return here.flat();
  return server.peers.ask('pubsub-numsub', [shard, names]).then((more) => {
    for (const counts of more as [Buffer, number][][]) counts.forEach(([, n], i) => (here[i][1] += n));
    return here.flat();
  });
}

const sub = <A>(spec: Omit<CommandSpec<A>, 'keys' | 'data' | 'group' | 'flags'>): CommandSpec<A> =>
  command<A>({ keys: [0, 0, 0], data: false, group: 'pubsub', flags: ['pubsub', 'loading', 'stale'], ...spec });

const pubsubSubcommands: Record<string, CommandSpec> = {
  channels: sub<Buffer | null>({
    name: 'pubsub|channels',
    arity: -2,
    summary: 'Returns the active channels.',
    since: '2.8.0',
    parse: (argv) => argv[2] ?? null,
    run: (pattern, { server }) => channels(server, false, pattern),
  }),
  numsub: sub<Buffer[]>({
    name: 'pubsub|numsub',
    arity: -2,
    summary: 'Returns a count of subscribers to channels.',
    since: '2.8.0',
    parse: (argv) => argv.slice(2),
    run: (channels, { server }) => numsub(server, false, channels),
  }),
  numpat: sub<null>({
    name: 'pubsub|numpat',
    arity: 2,
    summary: 'Returns a count of unique pattern subscriptions.',
    since: '2.8.0',
    parse: () => null,
    run(_, { server }) {
      if (!server.peers) return server.pubsub.numpat();
      // Distinct patterns over every worker.
      return server.peers
        .ask('pubsub-patterns', null)
        .then((more) => new Set([server.pubsub.patterns(), ...(more as Buffer[][])].flat().map((p) => p.toString('latin1'))).size);
    },
  }),
  shardchannels: sub<Buffer | null>({
    name: 'pubsub|shardchannels',
    arity: -2,
    summary: 'Returns the active shard channels.',
    since: '7.0.0',
    parse: (argv) => argv[2] ?? null,
    run: (pattern, { server }) => channels(server, true, pattern),
  }),
  shardnumsub: sub<Buffer[]>({
    name: 'pubsub|shardnumsub',
    arity: -2,
    summary: 'Returns the count of subscribers of shard channels.',
    since: '7.0.0',
    parse: (argv) => argv.slice(2),
    run: (channels, { server }) => numsub(server, true, channels),
  }),
  help: sub<null>({
    name: 'pubsub|help',
    arity: 2,
    summary: 'Returns helpful text about the different subcommands.',
    since: '6.2.0',
    parse: () => null,
    run: () =>
      [
        'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'CHANNELS [<pattern>]',
        "    Return the currently active channels matching a <pattern> (default: '*').",
        'NUMPAT',
        '    Return number of subscriptions to patterns.',
        'NUMSUB [<channel> ...]',
        '    Return the number of subscribers for the specified channels, excluding',
        '    pattern subscriptions(default: no channels).',
        'SHARDCHANNELS [<pattern>]',
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        'SHARDNUMSUB [<shardchannel> ...]',
        '    Return the number of subscribers for the specified shard level channel(s)',
        'HELP',
        '    Prints this help.',
      ].map((line) => simple(line)),
  }),
};

export const pubsub = command<null>({
  name: 'pubsub',
  arity: -2,
  flags: [],
  keys: [0, 0, 0],
  data: false,
  summary: 'A container for Pub/Sub commands.',
  group: 'pubsub',
  since: '2.8.0',
  parse: () => null,
  run: () => Errors.syntax(),
  subcommands: pubsubSubcommands,
});

/** The only commands a RESP2 client may send while subscribed (Redis's processCommand). */
export const ALLOWED_WHILE_SUBSCRIBED = new Set([
  'subscribe',
  'ssubscribe',
  'unsubscribe',
  'sunsubscribe',
  'psubscribe',
  'punsubscribe',
  'ping',
  'quit',
  'reset',
]);

export const pubsubCommands = [subscribe, psubscribe, ssubscribe, unsubscribe, punsubscribe, sunsubscribe, publish, spublish, pubsub];
