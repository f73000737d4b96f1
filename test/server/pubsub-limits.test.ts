/** A subscriber that does not read is cut at the pubsub class of client-output-buffer-limit, as Redis does. */
import net from 'node:net';
import { expect } from 'chai';
import { RawClient } from '../support/resp-client';
import { startRespql, type RunningRespql } from '../support/respql';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pubsub output buffer limit', () => {
  let respql: RunningRespql;
  before(async () => (respql = await startRespql('sqlite')));
  after(async () => respql.stop());

  it("reads back Redis's default pubsub class and drops a subscriber past its hard limit; a reading one stays", async () => {
    const admin = await RawClient.connect(respql.port);
    const limits = String(await admin.send('CONFIG', 'GET', 'client-output-buffer-limit'));
    expect(limits).to.match(/pubsub 33554432 8388608 60$/);
    expect(String(await admin.send('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0'))).to.equal('OK');
    const stalled = net.createConnection({ port: respql.port, host: '127.0.0.1' });
    await new Promise((r) => stalled.once('connect', r));
    stalled.write('SUBSCRIBE big\r\n');
    await sleep(50);
    // Never reads again: its unread output piles up in respql.
    stalled.pause();
    const reader = await RawClient.connect(respql.port);
    reader.sendRaw('SUBSCRIBE big\r\n');
    await reader.readReply();
    const body = Buffer.alloc(64 * 1024, 0x61);
    // 200 x 64 KB = 12.5 MB: far past 1 MB even with the kernel's socket buffers.
    let receivers = 2;
    for (let i = 0; i < 200 && receivers === 2; i++) {
      receivers = (await admin.send('PUBLISH', 'big', body)) as number;
      await reader.readReply();
    }
    // The stalled subscriber is gone (respql closed it); the reading one got every message.
    expect(receivers).to.equal(1);
    expect(await admin.send('PUBSUB', 'NUMSUB', 'big')).to.deep.equal([Buffer.from('big'), 1]);
    stalled.destroy();
    await admin.send('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    await reader.destroy();
    await admin.close();
  });
});
