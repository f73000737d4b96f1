/** Samples, their medians and quantiles, and how numbers are written in the report. */

/** SESSION: the session-traffic test (see sessionTraffic); the others are redis-benchmark's and pgbench's. */
export type Test = 'SET' | 'GET' | 'SESSION' | 'HASH_SESSION' | 'LOCK';

export interface Sample {
  target: string;
  test: Test;
  pipeline: number;
  rps: number;
  p50: number;
  p99: number;
  /** Longest single request (redis-benchmark only). */
  max?: number;
}

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The i-th rotation of `items`: repetition i starts with a different target. */
export const rotate = <T>(items: T[], i: number): T[] => items.map((_, k) => items[(k + i) % items.length]);

// The run

export const fmtMiB = (n: number) => `${n.toFixed(0)} MiB`;

export const fmtRate = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : 'n/a');

export interface Row {
  target: string;
  test: Test;
  pipeline: number;
  rps: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  runs: number;
}

export function summarize(samples: Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.target}|${s.test}|${s.pipeline}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((g) => ({
    target: g[0].target,
    test: g[0].test,
    pipeline: g[0].pipeline,
    rps: median(g.map((s) => s.rps)),
    min: Math.min(...g.map((s) => s.rps)),
    max: Math.max(...g.map((s) => s.rps)),
    p50: median(g.map((s) => s.p50)),
    p99: median(g.map((s) => s.p99)),
    runs: g.length,
  }));
}
