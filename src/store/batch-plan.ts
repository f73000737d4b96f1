/**
 * The batch planner: in which order, and merged into which statements, the pieces of one
 * group-commit batch run. Pure functions over the batch's descriptors; SqlEngine runs the plan.
 */
import { plainKeys, plainReads, type PlainOp } from './store';

/** What the planner sees of a piece of a batch: its plain operation, if it is one. */
export interface PlannedWork {
  readonly plain?: PlainOp;
  /** The database it works on: only operations on one database merge. */
  readonly db?: number;
}

/** One step of a batch: one piece of work on its own, or plain operations of one kind merged into one statement. */
export type Step = { work: number } | { plain: number[] };

/** Within a span of plain operations, their groups run kind by kind in this order, round after round. */
const KIND_ORDER: Record<PlainOp['kind'], number> = { get: 0, exists: 1, hread: 2, put: 3, hwrite: 4, expire: 5, delete: 6 };
const KINDS = 7;

/**
 * The order a batch runs in (indices into it). Work that is not plain runs where it stands.
 * Between two such pieces, the plain operations are grouped by kind, each group one
 * statement: an operation joins the first group of its kind that comes after every earlier
 * operation on any of its keys that it does not commute with (all do but two reads).
 * Operations on different keys commute, and on one key a write keeps its place among the
 * reads and writes, so every reply is what running the batch in order would give; 50
 * clients each sending GET and then EXPIRE of their own session make two statements, not 100.
 */
export function planBatch(batch: readonly PlannedWork[]): Step[] {
  const steps: Step[] = [];
  let span: number[] = [];
  for (let i = 0; i <= batch.length; i++) {
    if (i < batch.length && batch[i].plain) {
      span.push(i);
      continue;
    }
    if (span.length) steps.push(...planPlainSpan(batch, span));
    span = [];
    if (i < batch.length) steps.push({ work: i });
  }
  return steps;
}

function planPlainSpan(batch: readonly PlannedWork[], span: number[]): Step[] {
  // Groups are numbered as slots: slot % KINDS is the group's kind, slots run in ascending order.
  // A read must follow the key's last write; a write must follow every earlier read and write of it.
  const lastWrite = new Map<string, number>();
  const lastAny = new Map<string, number>();
  // Slot -> database -> the operations merged into one statement.
  const groups = new Map<number, Map<number, number[]>>();
  for (const i of span) {
    const op = batch[i].plain!;
    const db = batch[i].db ?? 0;
    // Another database's key is another key (a clash of names only orders two operations that need not be).
    const keys = db === 0 ? plainKeys(op) : plainKeys(op).map((key) => `${db}\n${key}`);
    const reads = plainReads(op);
    let after = -1;
    for (const key of keys) after = Math.max(after, (reads ? lastWrite : lastAny).get(key) ?? -1);
    const first = after + 1;
    const slot = first + ((((KIND_ORDER[op.kind] - first) % KINDS) + KINDS) % KINDS);
    for (const key of keys) {
      lastAny.set(key, Math.max(slot, lastAny.get(key) ?? -1));
      if (!reads) lastWrite.set(key, slot);
    }
    let byDb = groups.get(slot);
    if (!byDb) groups.set(slot, (byDb = new Map<number, number[]>()));
    const group = byDb.get(db);
    if (group) group.push(i);
    else byDb.set(db, [i]);
  }
  const steps: Step[] = [];
  for (const slot of [...groups.keys()].sort((a, b) => a - b))
    for (const group of groups.get(slot)!.values()) steps.push(...cutAtValueBytes(batch, group));
  return steps;
}

/** Merged values travel as one parameter: past this, a group of SETs is cut into several statements. */
export const MERGED_VALUES_MAX_BYTES = 16 * 1024 * 1024;

function cutAtValueBytes(batch: readonly PlannedWork[], group: number[]): Step[] {
  const steps: Step[] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const i of group) {
    const op = batch[i].plain!;
    const size =
      op.kind === 'put' ? op.value.length : op.kind === 'hwrite' ? op.pairs.reduce((n, [f, v]) => n + f.length + v.length, 0) : 0;
    if (current.length && bytes + size > MERGED_VALUES_MAX_BYTES) {
      steps.push({ plain: current });
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length) steps.push({ plain: current });
  return steps;
}
