/**
 * The batch planner on its own (a pure unit test: no server, no database). A plan must run
 * every piece of a batch exactly once, merge plain operations of one kind into one statement,
 * keep each key's reads and writes in their order, let work that is not plain split the
 * plain runs, and cut merged SETs at the value-byte limit.
 */
import { expect } from 'chai';
import { MERGED_VALUES_MAX_BYTES, planBatch, type PlannedWork, type Step } from '../../src/store/batch-plan';
import { plainKeys, plainReads, type PlainOp } from '../../src/store/store';
import { prng } from '../support/prng';

const get = (key: string): PlannedWork => ({ plain: { kind: 'get', key } });
const exists = (...keys: string[]): PlannedWork => ({ plain: { kind: 'exists', keys } });
const put = (key: string, value: Buffer = Buffer.from('v')): PlannedWork => ({ plain: { kind: 'put', key, value, expiry: null } });
const expire = (key: string): PlannedWork => ({ plain: { kind: 'expire', key, expiry: 1 } });
const del = (...keys: string[]): PlannedWork => ({ plain: { kind: 'delete', keys } });
/** Work that is not plain (a MULTI, an INCR...): the planner only sees that it has no `plain`. */
const work = (): PlannedWork => ({});

/** A plan as readable rows: 'work 3' or 'get 0,2'. */
function rows(batch: readonly PlannedWork[], steps: Step[]): string[] {
  return steps.map((step) => ('work' in step ? `work ${step.work}` : `${batch[step.plain[0]].plain!.kind} ${step.plain.join(',')}`));
}
const plan = (batch: readonly PlannedWork[]): string[] => rows(batch, planBatch(batch));

describe('batch planner (planBatch)', function () {
  it('merges the plain operations of each kind into one step, kind by kind', function () {
    const batch = [get('a'), put('b'), get('c'), expire('d'), del('e'), exists('f', 'g'), put('h'), get('i')];
    expect(plan(batch)).to.deep.equal(['get 0,2,7', 'exists 5', 'put 1,6', 'expire 3', 'delete 4']);
  });

  it('keeps one statement per kind for many clients each reading then writing its own key', function () {
    const batch: PlannedWork[] = [];
    for (let client = 0; client < 50; client++) batch.push(get(`session:${client}`), expire(`session:${client}`));
    const steps = planBatch(batch);
    expect(steps).to.have.length(2);
    expect(rows(batch, steps).map((row) => row.split(' ')[0])).to.deep.equal(['get', 'expire']);
  });

  it('merges only the operations of one database: the same name in two databases is two keys', function () {
    const on = (db: number, w: PlannedWork): PlannedWork => ({ ...w, db });
    const batch = [get('a'), on(2, get('a')), on(2, get('b')), put('c'), on(2, put('a')), on(3, put('a'))];
    expect(plan(batch)).to.deep.equal(['get 0', 'get 1,2', 'put 3', 'put 4', 'put 5']);
    // A write in database 2 does not order a read of the same name in database 0 after it.
    expect(plan([on(2, put('k')), get('k'), on(2, get('k'))])).to.deep.equal(['get 1', 'put 0', 'get 2']);
  });

  it("runs a read of a key after that key's earlier write, and a write after its earlier reads and writes", function () {
    // GET k before SET k stays before it; GET k after SET k comes after it; another key's GET joins the first group.
    expect(plan([get('k'), put('k'), get('k'), get('other')])).to.deep.equal(['get 0,3', 'put 1', 'get 2']);
    // A DEL before a SET of the same key runs first, though SETs come before DELs in a round.
    expect(plan([del('k'), put('k')])).to.deep.equal(['delete 0', 'put 1']);
    // Two writes of one key are never in one statement (a merged statement names each key at most once).
    expect(plan([put('k'), put('k'), put('j')])).to.deep.equal(['put 0,2', 'put 1']);
    // EXPIRE then GET of a key: the GET must see the new expiry.
    expect(plan([expire('k'), get('k')])).to.deep.equal(['expire 0', 'get 1']);
  });

  it('lets reads of one key share a statement (reads commute)', function () {
    expect(plan([get('k'), exists('k'), get('k')])).to.deep.equal(['get 0,2', 'exists 1']);
  });

  it('orders a multi-key operation after every key it shares with an earlier write', function () {
    // DEL a b must follow SET b; EXISTS a b after the DEL must follow it.
    expect(plan([put('b'), del('a', 'b'), exists('a', 'b'), get('c')])).to.deep.equal(['get 3', 'put 0', 'delete 1', 'exists 2']);
  });

  it('never moves a plain operation across work that is not plain', function () {
    expect(plan([get('a'), work(), get('b'), put('c'), work(), work(), put('d')])).to.deep.equal([
      'get 0',
      'work 1',
      'get 2',
      'put 3',
      'work 4',
      'work 5',
      'put 6',
    ]);
    expect(plan([work()])).to.deep.equal(['work 0']);
    expect(planBatch([])).to.deep.equal([]);
  });

  it(`cuts a run of merged SETs where their values pass ${MERGED_VALUES_MAX_BYTES / (1024 * 1024)} MB`, function () {
    const mb = (n: number) => Buffer.allocUnsafe(n * 1024 * 1024);
    expect(MERGED_VALUES_MAX_BYTES).to.equal(16 * 1024 * 1024);
    // Exactly the limit fits in one statement; one byte more starts the next.
    expect(plan([put('a', mb(8)), put('b', mb(8))])).to.deep.equal(['put 0,1']);
    expect(plan([put('a', mb(8)), put('b', mb(8)), put('c', Buffer.alloc(1))])).to.deep.equal(['put 0,1', 'put 2']);
    expect(plan([put('a', mb(6)), put('b', mb(6)), put('c', mb(6)), put('d', mb(6))])).to.deep.equal(['put 0,1', 'put 2,3']);
    // A value over the limit on its own still runs, alone.
    expect(plan([put('a', mb(17)), put('b'), put('c')])).to.deep.equal(['put 0', 'put 1,2']);
    // Only SET values count: reads are not cut.
    const gets = Array.from({ length: 2000 }, (_, i) => get(`k${i}`));
    expect(planBatch(gets)).to.have.length(1);
  });

  it('on random batches, runs each piece once and keeps the order of every pair that does not commute', function () {
    const random = prng(7);
    const keys = ['a', 'b', 'c', 'd'];
    const pick = () => keys[Math.floor(random() * keys.length)];
    const makers: (() => PlannedWork)[] = [
      () => get(pick()),
      () => exists(pick(), pick()),
      () => put(pick()),
      () => expire(pick()),
      () => del(pick(), pick()),
      work,
    ];
    for (let round = 0; round < 300; round++) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 30) }, () => makers[Math.floor(random() * makers.length)]());
      const steps = planBatch(batch);
      // Checked by hand, not by expect(), in the loops: chai's cost per call would dominate the test.
      const wrong = (why: string) => expect.fail(`${why}; batch ${JSON.stringify(batch.map((w) => w.plain ?? 'work'))}`);
      const position = new Array<number>(batch.length).fill(-1);
      steps.forEach((step, s) => {
        const members = 'work' in step ? [step.work] : step.plain;
        if ('plain' in step) {
          if (new Set(members.map((i) => batch[i].plain?.kind)).size !== 1) wrong(`step ${s} mixes kinds`);
          if (!plainReads(batch[members[0]].plain!)) {
            const named = members.flatMap((i) => [...new Set(plainKeys(batch[i].plain!))]);
            if (new Set(named).size !== named.length) wrong(`write step ${s} names a key twice`);
          }
        }
        for (const i of members) {
          if (position[i] !== -1) wrong(`piece ${i} planned twice`);
          position[i] = s;
        }
      });
      if (position.some((p) => p < 0)) wrong('a piece is missing from the plan');
      for (let i = 0; i < batch.length; i++) {
        for (let j = i + 1; j < batch.length; j++) {
          const [x, y] = [batch[i].plain, batch[j].plain];
          if (x && y && !conflict(x, y)) continue;
          if (position[i] >= position[j]) wrong(`piece ${j} runs before piece ${i}`);
        }
      }
    }
  });
});

/** Whether two plain operations must keep their order: they share a key and are not both reads. */
function conflict(x: PlainOp, y: PlainOp): boolean {
  if (plainReads(x) && plainReads(y)) return false;
  return plainKeys(x).some((key) => plainKeys(y).includes(key));
}
