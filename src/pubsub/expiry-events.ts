/**
 * `expired` keyspace events (Redis's active expiry): while notify-keyspace-events asks for them,
 * one instance at a time (a lease in the sweeper's lease table) deletes the keys whose time has
 * come, every `intervalMs`, oldest first through the expiry index, and publishes one `expired`
 * event per key deleted. A row is deleted by one transaction only, so each key's event is
 * raised once across all instances; the bus carries it to every instance's subscribers.
 */
import { notifying, publishKeyEvents } from '../commands/notify';
import type { RuntimeConfig } from '../commands/context';
import type { SqlEngine } from '../store/sql-engine';
import type { PubSubHub } from './hub';

export const EXPIRED_EVENTS_LEASE = 'expired-events';
/** Keys per transaction. */
const BATCH = 500;

export interface ExpiredEventsStats {
  /** `expired` events raised by this instance. */
  raised: number;
  /** Whether this instance holds the lease, and so is the one scanning. */
  leaseHeld: boolean;
}

export class ExpiredEvents {
  readonly stats: ExpiredEventsStats = { raised: 0, leaseHeld: false };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private renewAt = 0;
  private readonly leaseMs: number;

  constructor(
    private readonly engine: SqlEngine,
    private readonly hub: PubSubHub,
    private readonly config: RuntimeConfig,
    private readonly instanceId: string,
    readonly intervalMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    // Renewed every third of it: a holder that dies is replaced within about this long.
    this.leaseMs = Math.max(2000, 20 * intervalMs);
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.running || !notifying(this.config.notifyKeyspaceEvents, 'expired')) return;
    this.running = this.scan()
      .catch((err) => {
        this.stats.leaseHeld = false;
        this.onError(err);
      })
      .finally(() => (this.running = null));
  }

  /** Claims or renews the lease when due; while held, deletes and announces every key whose time has come. */
  private async scan(): Promise<void> {
    const now = Date.now();
    if (now >= this.renewAt) {
      this.stats.leaseHeld = (await this.engine.claimLease(EXPIRED_EVENTS_LEASE, this.instanceId, this.leaseMs)) === this.instanceId;
      this.renewAt = now + this.leaseMs / 3;
    }
    if (!this.stats.leaseHeld) return;
    for (const db of await this.engine.databases()) {
      for (;;) {
        const keys = await this.engine.transaction((store) => store.database(db).takeExpired(BATCH));
        if (!keys.length) break;
        this.stats.raised += keys.length;
        const flags = this.config.notifyKeyspaceEvents;
        await publishKeyEvents(
          this.hub,
          flags,
          keys.map((key) => ({ type: 'expired', event: 'expired', key })),
          db,
        );
        if (keys.length < BATCH) break;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    if (this.stats.leaseHeld) {
      this.stats.leaseHeld = false;
      await this.engine.releaseLease(EXPIRED_EVENTS_LEASE, this.instanceId).catch(this.onError);
    }
  }
}
