/**
 * A large value arriving in many chunks is copied once, not once per chunk: joining the
 * unconsumed bytes with every chunk made a 128 MB SET cost minutes of CPU (quadratic), a
 * cheap way for one client to stall the server. Counted, not timed: the bytes Buffer.concat
 * produces while the request arrives.
 */
import { expect } from 'chai';
import { RequestDecoder } from '../../src/protocol/decoder';

describe('decoder: large bulks arriving in pieces', () => {
  it('copies a 32 MB value a bounded number of times, and delivers it intact', () => {
    const size = 32 * 1024 * 1024;
    const value = Buffer.alloc(size, 0x61);
    value[size - 1] = 0x7a;
    const wire = Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`), value, Buffer.from('\r\n')]);
    const received: Buffer[][] = [];
    const decoder = new RequestDecoder(
      (argv) => received.push(argv),
      (err) => {
        throw err;
      },
    );
    const concat = Buffer.concat;
    let copied = 0;
    Buffer.concat = (list: readonly Uint8Array[], length?: number) => {
      const out = concat(list, length);
      copied += out.length;
      return out;
    };
    try {
      for (let at = 0; at < wire.length; at += 64 * 1024) {
        decoder.feed(wire.subarray(at, at + 64 * 1024));
        if (at === 16 * 1024 * 1024) expect(decoder.pendingBytes).to.be.greaterThan(16 * 1024 * 1024 - 100);
      }
    } finally {
      Buffer.concat = concat;
    }
    expect(received).to.have.length(1);
    expect(received[0][2].length).to.equal(size);
    expect(received[0][2][size - 1]).to.equal(0x7a);
    expect(copied, `bytes copied by Buffer.concat for a ${size}-byte request`).to.be.below(2 * wire.length);
    expect(decoder.pendingBytes).to.equal(0);
  });
});
