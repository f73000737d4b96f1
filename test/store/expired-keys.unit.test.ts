/**
 * INFO's expired_keys bookkeeping on its own: a row (key and expiry) found expired by
 * commands counts once, the sweeper's deletion of that row does not count it again, a row
 * nobody found counts when swept, and a key set again with a new expiry is a new row.
 */
import { expect } from 'chai';
import { ExpiredKeys } from '../../src/store/expired-keys';

describe('ExpiredKeys (INFO expired_keys)', () => {
  it('counts a row found expired once, however often it is found, and not again when swept', () => {
    const e = new ExpiredKeys();
    e.found('k', 100);
    e.found('k', 100);
    expect(e.count).to.equal(1);
    e.swept([{ key: 'k', expiry: 100 }]);
    expect(e.count).to.equal(1);
    // Forgotten once swept: the same row swept again (another sweep racing) would be a new count.
    e.swept([{ key: 'k', expiry: 100 }]);
    expect(e.count).to.equal(2);
  });

  it('counts a row nobody found when swept, and a key set again with another expiry as a new row', () => {
    const e = new ExpiredKeys();
    e.swept([
      { key: 'a', expiry: 5 },
      { key: 'b', expiry: 6 },
    ]);
    expect(e.count).to.equal(2);
    e.found('k', 100);
    e.found('k', 200);
    expect(e.count).to.equal(4);
    e.swept([{ key: 'k', expiry: 200 }]);
    expect(e.count).to.equal(4);
  });

  it('forgets the rows a complete sweep passed, and the oldest beyond its bound', () => {
    const e = new ExpiredKeys(2);
    e.found('a', 10);
    e.found('b', 50);
    e.sweptUpTo(20);
    // 'a' is gone (swept or replaced): its row is no longer remembered; 'b' still is.
    e.swept([
      { key: 'a', expiry: 10 },
      { key: 'b', expiry: 50 },
    ]);
    expect(e.count).to.equal(3);
    e.found('x', 1);
    e.found('y', 1);
    e.found('z', 1);
    e.swept([
      { key: 'x', expiry: 1 },
      { key: 'z', expiry: 1 },
    ]);
    expect(e.count).to.equal(7);
  });

  it('CONFIG RESETSTAT zeroes the count, not what it remembers', () => {
    const e = new ExpiredKeys();
    e.found('k', 1);
    e.reset();
    e.swept([{ key: 'k', expiry: 1 }]);
    expect(e.count).to.equal(0);
  });

  it('counts the rows of one name in two databases apart, and sweeps each database on its own', () => {
    const e = new ExpiredKeys();
    e.found('k', 1, 0);
    e.found('k', 1, 3);
    e.found('k', 1, 3);
    expect(e.count).to.equal(2);
    // Database 0's complete sweep forgets only its own rows: database 3's is still known when swept.
    e.sweptUpTo(10, 0);
    e.swept([{ key: 'k', expiry: 1 }], 3);
    expect(e.count).to.equal(2);
    e.swept([{ key: 'k', expiry: 1 }], 0);
    expect(e.count).to.equal(3);
  });
});
