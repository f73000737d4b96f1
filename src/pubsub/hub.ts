/**
 * This instance's pub/sub: who is subscribed to what, and delivery of messages to local
 * subscribers. Messages reach every instance through a MessageBus (in-process on SQLite,
 * LISTEN/NOTIFY on PostgreSQL); the bus hands each message back here, once, for delivery.
 */
import { globMatch } from '../commands/glob';
import { bulk, push, replies, type Reply } from '../protocol/reply';

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** What a subscriber needs of its connection: its count of subscriptions, and a way to send it a push. */
export interface Subscriber {
  /** Channels + patterns + shard channels (nonzero = Redis's CLIENT_PUBSUB flag). */
  subscriptions: number;
  protocol: 2 | 3;
}

/** Carries messages to every instance, this one included (see LocalBus, PostgresBus). */
export interface MessageBus {
  /**
   * Sends a message to every instance. Resolves with the number of receivers on this instance
   * once it has been delivered here (what PUBLISH answers).
   */
  publish(shard: boolean, channel: Buffer, message: Buffer): number | Promise<number>;
  start(): Promise<void>;
  close(): Promise<void>;
}

interface ClientSubscriptions {
  deliver: (reply: Reply) => void;
  channel: Map<string, Buffer>;
  pattern: Map<string, Buffer>;
  shard: Map<string, Buffer>;
}

const NAMES: Record<SubscriptionKind, [subscribe: string, unsubscribe: string]> = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
};

const id = (name: Buffer): string => name.toString('latin1');
const MESSAGE = bulk('message');
const PMESSAGE = bulk('pmessage');
const SMESSAGE = bulk('smessage');

export class PubSubHub {
  private readonly clients = new Map<Subscriber, ClientSubscriptions>();
  /** Subscribers by channel, pattern and shard channel, in subscription order (Redis's dict + list order). */
  private readonly index: Record<SubscriptionKind, Map<string, { name: Buffer; clients: Set<Subscriber> }>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };
  bus: MessageBus = new LocalBus(this);
  /** Messages delivered to local subscribers (INFO). */
  delivered = 0;

  /** A connection that may subscribe: `deliver` writes a push to it after its pending replies. */
  attach(client: Subscriber, deliver: (reply: Reply) => void): void {
    this.clients.set(client, { deliver, channel: new Map(), pattern: new Map(), shard: new Map() });
  }

  /** A closed connection: all its subscriptions end. */
  detach(client: Subscriber): void {
    this.unsubscribeAll(client);
    this.clients.delete(client);
  }

  /** RESET and closed connections. */
  unsubscribeAll(client: Subscriber): void {
    const subs = this.clients.get(client);
    if (!subs) return;
    for (const kind of ['channel', 'pattern', 'shard'] as const)
      for (const name of [...subs[kind].values()]) this.remove(client, subs, kind, name);
  }

  /** Redis's count in (un)subscribe confirmations: shard channels count apart from the others. */
  private countFor(client: Subscriber, kind: SubscriptionKind): number {
    const subs = this.clients.get(client)!;
    return kind === 'shard' ? subs.shard.size : subs.channel.size + subs.pattern.size;
  }

  subscribe(client: Subscriber, kind: SubscriptionKind, names: Buffer[]): Reply {
    const subs = this.clients.get(client);
    if (!subs) throw new Error('internal error: subscribe from an unattached client');
    const out: Reply[] = [];
    for (const name of names) {
      const key = id(name);
      if (!subs[kind].has(key)) {
        subs[kind].set(key, name);
        let entry = this.index[kind].get(key);
        if (!entry) this.index[kind].set(key, (entry = { name, clients: new Set() }));
        entry.clients.add(client);
        client.subscriptions++;
      }
      out.push(push([bulk(NAMES[kind][0]), name, this.countFor(client, kind)]));
    }
    return replies(out);
  }

  /** With no names: every subscription of that kind; with none to end, one confirmation with a null name. */
  unsubscribe(client: Subscriber, kind: SubscriptionKind, names: Buffer[]): Reply {
    const subs = this.clients.get(client);
    if (!subs) throw new Error('internal error: unsubscribe from an unattached client');
    const word = bulk(NAMES[kind][1]);
    const targets = names.length ? names : [...subs[kind].values()];
    if (!targets.length) return push([word, null, this.countFor(client, kind)]);
    const out: Reply[] = [];
    for (const name of targets) {
      this.remove(client, subs, kind, name);
      out.push(push([word, name, this.countFor(client, kind)]));
    }
    return replies(out);
  }

  private remove(client: Subscriber, subs: ClientSubscriptions, kind: SubscriptionKind, name: Buffer): void {
    const key = id(name);
    if (!subs[kind].delete(key)) return;
    client.subscriptions--;
    const entry = this.index[kind].get(key)!;
    entry.clients.delete(client);
    if (!entry.clients.size) this.index[kind].delete(key);
  }

  /** PUBLISH / SPUBLISH: through the bus to every instance. */
  publish(shard: boolean, channel: Buffer, message: Buffer): number | Promise<number> {
    return this.bus.publish(shard, channel, message);
  }

  /** Delivers one message to this instance's subscribers (called by the bus); returns how many got it. */
  deliver(shard: boolean, channel: Buffer, message: Buffer): number {
    let receivers = 0;
    const key = id(channel);
    if (shard) {
      for (const client of this.index.shard.get(key)?.clients ?? []) {
        this.clients.get(client)!.deliver(push([SMESSAGE, channel, message]));
        receivers++;
      }
    } else {
      for (const client of this.index.channel.get(key)?.clients ?? []) {
        this.clients.get(client)!.deliver(push([MESSAGE, channel, message]));
        receivers++;
      }
      for (const { name, clients } of this.index.pattern.values()) {
        if (!globMatch(name, channel)) continue;
        for (const client of clients) {
          this.clients.get(client)!.deliver(push([PMESSAGE, name, channel, message]));
          receivers++;
        }
      }
    }
    this.delivered += receivers;
    return receivers;
  }

  /** How many of this instance's subscribers a message on `channel` reaches (deliver's count, without delivering). */
  receivers(shard: boolean, channel: Buffer): number {
    const key = id(channel);
    if (shard) return this.index.shard.get(key)?.clients.size ?? 0;
    let n = this.index.channel.get(key)?.clients.size ?? 0;
    for (const { name, clients } of this.index.pattern.values()) if (globMatch(name, channel)) n += clients.size;
    return n;
  }

  /** The patterns subscribed on this instance (PUBSUB NUMPAT across the workers of one server). */
  patterns(): Buffer[] {
    return [...this.index.pattern.values()].map((p) => p.name);
  }

  /** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: channels with subscribers on this instance. */
  channels(shard: boolean, pattern: Buffer | null): Buffer[] {
    const out: Buffer[] = [];
    for (const { name } of this.index[shard ? 'shard' : 'channel'].values()) if (!pattern || globMatch(pattern, name)) out.push(name);
    return out;
  }

  /** PUBSUB NUMSUB / SHARDNUMSUB: subscribers per channel on this instance. */
  numsub(shard: boolean, channels: Buffer[]): [Buffer, number][] {
    return channels.map((c) => [c, this.index[shard ? 'shard' : 'channel'].get(id(c))?.clients.size ?? 0]);
  }

  /** PUBSUB NUMPAT: distinct patterns subscribed on this instance. */
  numpat(): number {
    return this.index.pattern.size;
  }

  /** CLIENT LIST's sub=, psub=, ssub=. */
  counts(client: Subscriber): { sub: number; psub: number; ssub: number } {
    const subs = this.clients.get(client);
    return { sub: subs?.channel.size ?? 0, psub: subs?.pattern.size ?? 0, ssub: subs?.shard.size ?? 0 };
  }
}

/** One instance (SQLite): delivery in-process, at once, as Redis does. */
export class LocalBus implements MessageBus {
  constructor(private readonly hub: PubSubHub) {}
  publish(shard: boolean, channel: Buffer, message: Buffer): number {
    return this.hub.deliver(shard, channel, message);
  }
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
