/**
 * The commit flusher on its own (a pure unit test: no server, no database, no files), over a
 * fake FlushCommits whose flushes the test starts and ends. A reply is due only once a flush
 * that started after its COMMIT has finished; read-only replies wait for every earlier
 * commit's flush; flushes run one at a time and gather waiting commands; a failed flush is final.
 */
import { expect } from 'chai';
import { CommitFlusher } from '../../src/store/commit-flusher';
import type { FlushCommits } from '../../src/store/dialect';

/** A FlushCommits whose every flush stays in flight until the test ends it. */
class FakeFlushCommits implements FlushCommits {
  readonly flushes: { end(): void; fail(err: Error): void }[] = [];
  readonly checkpoints = 0;
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.flushes.push({ end: resolve, fail: reject }));
  }
  /** Ends flush `index` (from 0) once it has started, perhaps on the flusher's gather timer, and lets its waiters settle. */
  async endFlush(index: number): Promise<void> {
    await until(() => this.flushes.length > index);
    this.flushes[index].end();
    await settle();
  }
  close(): void {}
}

/** A reply's wait, watched: its state can be read at any moment. */
interface Watched {
  state: 'pending' | 'resolved' | 'rejected';
  error?: unknown;
}
function watch(durable: Promise<void> | null): Watched {
  expect(durable, 'the reply waits for a flush').to.not.equal(null);
  const watched: Watched = { state: 'pending' };
  durable!.then(
    () => (watched.state = 'resolved'),
    (error) => Object.assign(watched, { state: 'rejected', error }),
  );
  return watched;
}

/** Lets every settled promise run its callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits until `done` holds (a flush started on the flusher's gather timer), failing after a second. */
async function until(done: () => boolean): Promise<void> {
  const giveUp = performance.now() + 1000;
  while (!done()) {
    if (performance.now() > giveUp) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('commit flusher (CommitFlusher)', function () {
  let fake: FakeFlushCommits;
  let flusher: CommitFlusher;
  beforeEach(function () {
    fake = new FakeFlushCommits();
    flusher = new CommitFlusher(fake);
  });

  it('lets a reply go at once when every commit is already flushed', async function () {
    expect(flusher.durable(false)).to.equal(null);
    const first = watch(flusher.durable(true));
    await fake.endFlush(0);
    expect(first.state).to.equal('resolved');
    expect(flusher.durable(false)).to.equal(null);
    expect(flusher.flushes).to.equal(1);
  });

  it("holds a committed batch's reply until a flush that started after its COMMIT has ended", async function () {
    const a = watch(flusher.durable(true));
    expect(fake.flushes).to.have.length(1);
    // Committed while flush 1 runs: flush 1 may have synced the file before this COMMIT wrote it.
    const b = watch(flusher.durable(true));
    await fake.endFlush(0);
    expect(a.state).to.equal('resolved');
    expect(b.state).to.equal('pending');
    await until(() => fake.flushes.length === 2);
    await settle();
    expect(b.state).to.equal('pending');
    fake.flushes[1].end();
    await settle();
    expect(b.state).to.equal('resolved');
    expect(flusher.flushes).to.equal(2);
  });

  it('holds a read-only reply until every commit before it is flushed, and no longer', async function () {
    watch(flusher.durable(true));
    // It may have read what that commit wrote: it waits for flush 1, though it committed nothing.
    const readBeforeB = watch(flusher.durable(false));
    watch(flusher.durable(true, 1));
    const readAfterB = watch(flusher.durable(false));
    expect(fake.flushes).to.have.length(1);
    await fake.endFlush(0);
    expect(readBeforeB.state).to.equal('resolved');
    expect(readAfterB.state).to.equal('pending');
    await fake.endFlush(1);
    expect(readAfterB.state).to.equal('resolved');
  });

  it('runs one flush at a time, the next covering every commit made meanwhile', async function () {
    const first = watch(flusher.durable(true));
    const meanwhile = Array.from({ length: 20 }, (_, i) => watch(flusher.durable(i % 3 !== 0)));
    expect(fake.flushes).to.have.length(1);
    await fake.endFlush(0);
    expect(first.state).to.equal('resolved');
    await until(() => fake.flushes.length === 2);
    // Commits that come while flush 2 runs do not start a third beside it.
    const later = watch(flusher.durable(true));
    expect(fake.flushes).to.have.length(2);
    fake.flushes[1].end();
    await settle();
    expect(meanwhile.map((w) => w.state)).to.deep.equal(meanwhile.map(() => 'resolved'));
    expect(later.state).to.equal('pending');
    await fake.endFlush(2);
    expect(later.state).to.equal('resolved');
  });

  it('gathers: the next flush waits for as many commands as the last cycle carried, or half as long as the last flush took', async function () {
    // Cycle 1 carries 15 commands (10 answered, 5 waiting for the next flush) and lasts 120 ms or more.
    watch(flusher.durable(true, 10));
    watch(flusher.durable(true, 5));
    await new Promise((resolve) => setTimeout(resolve, 120));
    const ended = performance.now();
    fake.flushes[0].end();
    await settle();
    // 5 of 15 waiting: the flush waits to gather more.
    expect(fake.flushes).to.have.length(1);
    await until(() => fake.flushes.length === 2);
    expect(performance.now() - ended, 'waited about half of the last flush').to.be.at.least(55);
    fake.flushes[1].end();
    await settle();

    // Cycle 2 carried 5: as many commands waiting start the next flush at once.
    const started = fake.flushes.length;
    watch(flusher.durable(true, 4));
    expect(fake.flushes).to.have.length(started);
    watch(flusher.durable(true, 1));
    expect(fake.flushes).to.have.length(started + 1);
  });

  it('flushes a lone client at once, however long the last flush took', async function () {
    watch(flusher.durable(true));
    await new Promise((resolve) => setTimeout(resolve, 40));
    fake.flushes[0].end();
    await settle();
    watch(flusher.durable(true));
    expect(fake.flushes).to.have.length(2);
  });

  it('treats a failed flush as final: its waiters, those waiting for a later flush, and every later reply fail', async function () {
    const a = watch(flusher.durable(true));
    const b = watch(flusher.durable(true));
    fake.flushes[0].fail(new Error('EIO: i/o error, fdatasync'));
    await settle();
    expect(a.state).to.equal('rejected');
    expect(String(a.error)).to.match(/could not flush the write-ahead log to disk: EIO/);
    expect(b.state).to.equal('rejected');
    expect(b.error).to.equal(a.error);
    // Nothing is acknowledged any more, reads included, and no flush is tried again.
    const read = watch(flusher.durable(false));
    const write = watch(flusher.durable(true));
    await settle();
    expect([read.state, write.state]).to.deep.equal(['rejected', 'rejected']);
    expect(read.error).to.equal(a.error);
    expect(fake.flushes).to.have.length(1);
    expect(flusher.flushes).to.equal(0);
  });
});
