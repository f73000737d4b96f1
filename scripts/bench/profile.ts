/** The profile block (--profile): respql on SQLite under the V8 profiler, and .cpuprofile parsing. */
import fs from 'node:fs';
import path from 'node:path';
import { KEYSPACE, type Options, ROOT, fail } from './options';
import { commandLogs, loadAverage, progress, recordCommands, stopChild } from './processes';
import { prefill, startRespql } from './targets';
import { type Sample, type Test, fmtRate } from './results';
import { redisBenchmark } from './workloads';
import { respqlCommit } from './report';

/** The profile block: respql (SQLite) under the V8 profiler, once for SET -P 1 and once for GET -P 1. */
export async function profile(options: Options, tmp: string): Promise<string> {
  const commands = recordCommands();
  const started = new Date();
  const loadBefore = loadAverage();
  const sections: string[] = [];
  for (const test of ['SET', 'GET'] as const) sections.push(await profileOne(options, tmp, test));
  commandLogs.delete(commands);
  return `## Profile: respql on SQLite

Produced by \`npm run bench -- --profile\` on ${started.toISOString().slice(0, 10)}, respql git ${respqlCommit(options.respql)}; load average (1, 5, 15 min) before ${loadBefore}, after ${loadAverage()}.
Each profile is of one run of \`node --cpu-prof\` while one redis-benchmark test ran against a file pre-filled like the benchmark's;
start-up and pre-filling are left out. Self time of a native call (better-sqlite3's \`run\`/\`all\`, a socket's \`writeBuffer\`)
includes the C++ work and any wait inside it, such as SQLite's fsync at COMMIT, which blocks the event loop.
Percentages are of busy time; the profiles are kept under \`.tmp/\` (open them in Chrome DevTools).

${sections.join('\n\n')}

\`\`\`sh
TMP=$(mktemp -d)
${commands.join('\n')}
\`\`\``;
}

export async function profileOne(options: Options, tmp: string, test: Test): Promise<string> {
  const profDir = path.join(tmp, `cpuprofile-${test.toLowerCase()}`);
  const spawnedAt = Date.now();
  const server = await startRespql(
    options,
    tmp,
    `respql, SQLite (profiled, ${test})`,
    path.join(tmp, `profile-${test.toLowerCase()}.sqlite`),
    {
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    },
  );
  // Same state as in the benchmark: every key present, every SET replaces a row, every GET hits.
  progress(`pre-filling ${KEYSPACE} keys into ${server.name}`);
  await prefill(server.port);
  progress(`profiling respql (SQLite) under ${test} -P 1, -n ${options.requests}`);
  // Start-up and pre-filling are not what we want to see: skip that much of the profile.
  const startupMs = Date.now() - spawnedAt;
  const [sample] = await redisBenchmark(server, 1, options.requests, test.toLowerCase());
  // The profile is written when the process exits, so stop it gracefully (SIGTERM -> close -> exit).
  await stopChild(server.child);
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) ?? fail(`no .cpuprofile in ${profDir}`);
  const keep = path.join(ROOT, '.tmp', `bench-respql-sqlite-${test.toLowerCase()}.cpuprofile`);
  fs.mkdirSync(path.dirname(keep), { recursive: true });
  fs.copyFileSync(path.join(profDir, file), keep);
  const top = selfTimes(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile, options.respql, startupMs);
  return renderProfile(top, test, sample, options.requests, path.relative(ROOT, keep));
}

// At scale (--scale): a large table vs a small one, sweeping many expired rows under load,
// many idle connections. Tables are filled straight in SQL (millions of rows over the
// protocol would take longer than the measurements), in the shape respql's migration made.

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
}

/**
 * Self time per function: each sample owns the interval until the next sample (as DevTools
 * counts it). Samples in the first `skipMs` (the server's start-up) are left out.
 */
export function selfTimes(
  p: CpuProfile,
  respqlRoot: string,
  skipMs = 0,
): { functions: SelfTime[]; byPackage: SelfTime[]; totalMs: number; idleMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, SelfTime>();
  const pkg = new Map<string, SelfTime>();
  let totalMs = 0;
  let idleMs = 0;
  let elapsedMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    elapsedMs += p.timeDeltas[i] / 1000;
    if (elapsedMs < skipMs) continue;
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = byId.get(p.samples[i])!.callFrame;
    const name = frame.functionName || '(anonymous)';
    totalMs += ms;
    if (name === '(idle)') {
      idleMs += ms;
      continue;
    }
    const where = frame.url ? `${shortUrl(frame.url, respqlRoot)}:${frame.lineNumber + 1}` : '';
    add(fn, `${name} ${where}`, name, where, ms);
    const group = packageOf(frame.url, name, respqlRoot);
    add(pkg, group, group, '', ms);
  }
  const sorted = (m: Map<string, SelfTime>) => [...m.values()].sort((a, b) => b.ms - a.ms);
  return { functions: sorted(fn), byPackage: sorted(pkg), totalMs, idleMs };
}

export function add(m: Map<string, SelfTime>, key: string, name: string, where: string, ms: number): void {
  const e = m.get(key) ?? { name, where, ms: 0 };
  e.ms += ms;
  m.set(key, e);
}

export function shortUrl(url: string, respqlRoot: string): string {
  return url.replace(/^file:\/\//, '').replace(respqlRoot + '/', '');
}

/** Groups a frame by where its code lives: respql itself, a dependency, Node's internals, or V8. */
export function packageOf(url: string, name: string, respqlRoot: string): string {
  if (!url) return name.startsWith('(') ? `V8 ${name}` : 'native (C++ bindings, e.g. better-sqlite3, sockets)';
  const u = shortUrl(url, respqlRoot);
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (dep) return `dependency: ${dep[1]}`;
  if (u.startsWith('node:')) return 'Node.js internals';
  if (u.startsWith('dist/src/')) return `respql: ${u.slice('dist/src/'.length).split('/')[0]}/`;
  return u;
}

// Report

export function renderProfile(p: ReturnType<typeof selfTimes>, test: Test, sample: Sample, requests: number, kept: string): string {
  const busy = p.totalMs - p.idleMs;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)} %`;
  const top = p.functions
    .slice(0, 15)
    .map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${f.where || '–'} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`);
  const pkgs = p.byPackage.slice(0, 8).map((f) => `| ${f.name} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`);
  return `### ${test} -P 1

\`redis-benchmark -t ${test.toLowerCase()} -P 1 -n ${requests}\`: ${fmtRate(sample.rps)} ops/s under the profiler. The process was busy ${(busy / 1000).toFixed(1)} s of ${(p.totalMs / 1000).toFixed(1)} s profiled (${((p.idleMs / p.totalMs) * 100).toFixed(0)} % idle). Kept at \`${kept}\`.

| function (self time) | where | ms | share |
|---|---|---:|---:|
${top.join('\n')}

| code (self time by package) | ms | share |
|---|---:|---:|
${pkgs.join('\n')}`;
}
