/**
 * The server's own figures that INFO shows and the Prometheus endpoint exports: one set of
 * plain numbers, so the two always agree. The hot path only adds to them.
 */
import { RespError } from '../protocol/errors';
import type { Reply } from '../protocol/reply';
import type { CommandSpec } from './types';
import type { ServerStats } from './context';

/** A histogram child (prom-client's `labels(...)`), set only when the metrics endpoint is on. */
export interface LatencyObserver {
  observe(seconds: number): void;
}

/** One command's line in INFO commandstats (Redis's calls, usec, rejected_calls, failed_calls). */
export class CommandStat {
  calls = 0;
  usec = 0;
  rejectedCalls = 0;
  failedCalls = 0;

  constructor(
    /** Redis 7's full name: 'get', 'config|get'. */
    readonly name: string,
    public latency: LatencyObserver | null,
  ) {}

  /**
   * Counts one call that started at `started` (performance.now()) and answered `reply`;
   * like Redis, after the call, so INFO does not count itself.
   */
  record(started: number, reply: Reply, server: ServerStats): Reply {
    const usec = (performance.now() - started) * 1000;
    server.commandsProcessed++;
    this.calls++;
    this.usec += usec;
    if (reply instanceof RespError) this.failedCalls++;
    if (this.latency) this.latency.observe(usec / 1e6);
    return reply;
  }
}

/** Per-command figures, one CommandStat per spec (subcommands included), created on first use. */
export class CommandStats {
  private readonly bySpec = new Map<CommandSpec<unknown>, CommandStat>();
  private latencyFor: ((name: string) => LatencyObserver) | null = null;

  get(spec: CommandSpec<unknown>): CommandStat {
    let stat = this.bySpec.get(spec);
    if (!stat) {
      stat = new CommandStat(spec.name, this.latencyFor?.(spec.name) ?? null);
      this.bySpec.set(spec, stat);
    }
    return stat;
  }

  /** Commands that were called or refused at least once, by name (as INFO commandstats lists them). */
  used(): CommandStat[] {
    return [...this.bySpec.values()]
      .filter((s) => s.calls || s.rejectedCalls || s.failedCalls)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Latency histograms for every command from now on (the metrics endpoint). */
  observeLatency(factory: (name: string) => LatencyObserver): void {
    this.latencyFor = factory;
    for (const stat of this.bySpec.values()) stat.latency = factory(stat.name);
  }

  /** CONFIG RESETSTAT */
  reset(): void {
    for (const stat of this.bySpec.values()) stat.calls = stat.usec = stat.rejectedCalls = stat.failedCalls = 0;
  }
}

const SAMPLES = 16;
const SAMPLE_PERIOD_MS = 100;

/** Redis's trackInstantaneousMetric: per-second rates over the last 16 samples taken every 100 ms. */
class InstantaneousMetric {
  private readonly samples = new Float64Array(SAMPLES);
  private index = 0;
  private lastTime = 0;
  private lastReading = 0;

  start(now: number, reading: number): void {
    this.lastTime = now;
    this.lastReading = reading;
  }

  sample(now: number, reading: number): void {
    const elapsed = now - this.lastTime;
    // A reading that went down was reset (CONFIG RESETSTAT): count nothing for this sample.
    const delta = Math.max(0, reading - this.lastReading);
    this.samples[this.index] = elapsed > 0 ? (delta * 1000) / elapsed : 0;
    this.index = (this.index + 1) % SAMPLES;
    this.lastTime = now;
    this.lastReading = reading;
  }

  perSecond(): number {
    let sum = 0;
    for (const s of this.samples) sum += s;
    return sum / SAMPLES;
  }
}

/** instantaneous_ops_per_sec, instantaneous_input_kbps, instantaneous_output_kbps. */
export class InstantaneousRates {
  private readonly ops = new InstantaneousMetric();
  private readonly input = new InstantaneousMetric();
  private readonly output = new InstantaneousMetric();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly read: () => { commands: number; inputBytes: number; outputBytes: number }) {}

  start(): void {
    if (this.timer) return;
    const first = this.read();
    const now = Date.now();
    this.ops.start(now, first.commands);
    this.input.start(now, first.inputBytes);
    this.output.start(now, first.outputBytes);
    this.timer = setInterval(() => {
      const r = this.read();
      const at = Date.now();
      this.ops.sample(at, r.commands);
      this.input.sample(at, r.inputBytes);
      this.output.sample(at, r.outputBytes);
    }, SAMPLE_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  opsPerSec(): number {
    return Math.floor(this.ops.perSecond());
  }

  inputKbps(): number {
    return this.input.perSecond() / 1024;
  }

  outputKbps(): number {
    return this.output.perSecond() / 1024;
  }
}

export function emptyStats(): ServerStats {
  return {
    connectionsReceived: 0,
    commandsProcessed: 0,
    rejectedConnections: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    errorReplies: 0,
  };
}
