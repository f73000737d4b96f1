/**
 * After a protocol error Redis sends the error and closes the connection in both directions
 * (freeClient): a client that keeps sending gets a reset, and the server reads nothing more.
 * Each case runs against redis-server too, so the expectation is Redis's.
 */
import { expect } from 'chai';
import net from 'node:net';
import { usePeers } from '../support/differential';
import { RawClient, toStrings } from '../support/resp-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `first`, then keeps sending `more` every 10 ms without ever closing its own side
 * (allowHalfOpen): what came back, and whether the server closed the connection for good
 * (a FIN alone is not enough: writes after it must fail) within `timeoutMs`.
 */
function abusiveClient(port: number, first: Buffer, more: Buffer, timeoutMs = 3000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let data = '';
    const pump = setInterval(() => {
      if (!socket.destroyed) socket.write(more);
    }, 10);
    const done = (closed: boolean) => {
      clearInterval(pump);
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed });
    };
    socket.on('connect', () => socket.write(first));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
    const timer = setTimeout(() => done(false), timeoutMs);
  });
}

async function connectedClients(port: number): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    const info = toStrings(await c.send('INFO', 'clients')) as string;
    return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
  } finally {
    await c.close();
  }
}

const CASES: { name: string; first: Buffer; more: Buffer; reply: string }[] = [
  {
    name: 'too big inline request (a NUL, then 64 KB without a newline)',
    first: Buffer.concat([Buffer.from([0]), Buffer.alloc(70 * 1024, 'x')]),
    more: Buffer.alloc(4096, 'x'),
    reply: '-ERR Protocol error: too big inline request\r\n',
  },
  {
    name: 'invalid multibulk length',
    first: Buffer.from('*abc\r\n'),
    more: Buffer.from('*1\r\n$4\r\nPING\r\n'),
    reply: '-ERR Protocol error: invalid multibulk length\r\n',
  },
];

describe('a protocol error closes the connection in both directions, as Redis does', () => {
  const peers = usePeers('sqlite');
  for (const c of CASES) {
    for (const peer of ['redis', 'respql'] as const) {
      it(`${c.name} (${peer})`, async () => {
        const port = peers[peer].port;
        const r = await abusiveClient(port, c.first, c.more);
        // Only the error: nothing sent after it is answered.
        expect(r).to.deep.equal({ data: c.reply, closed: true });
        // The server dropped the client (only the checking connection is left).
        await sleep(50);
        expect(await connectedClients(port)).to.equal(1);
      });
    }
  }
});
