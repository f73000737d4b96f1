import { expect } from 'chai';
import net from 'node:net';
import { createServer } from '../../src';
import { ProtectedModeError } from '../../src/server/server';
import { RawClient, rawExchange, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects and collects everything until the server closes the socket. */
function bytesUntilClose(port: number, send: Buffer | string, timeoutMs = 5000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(send));
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, timeoutMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`limits and abusive clients (${backend})`, () => {
    let respql: RunningRespql;
    before(async () => {
      respql = await startRespql(backend, {
        limits: {
          maxClients: 3,
          protoMaxBulkLen: 200 * 1024,
          queryBufferLimit: 64 * 1024,
          outputBuffer: { normal: { hard: 1024 * 1024, soft: 0, seconds: 0 } },
          idleTimeoutSeconds: 1,
        },
      });
    });
    after(async () => respql.stop());

    it("maxclients: one too many gets Redis's error and is closed; the others keep working", async () => {
      const a = await RawClient.connect(respql.port);
      const b = await RawClient.connect(respql.port);
      const c = await RawClient.connect(respql.port);
      const extra = await bytesUntilClose(respql.port, '');
      expect(extra).to.deep.equal({ data: '-ERR max number of clients reached\r\n', closed: true });
      expect(toStrings(await a.send('PING'))).to.equal('PONG');
      await Promise.all([a.close(), b.close(), c.close()]);
    });

    it('proto-max-bulk-len: a larger bulk is a protocol error and closes the client', async () => {
      const r = await bytesUntilClose(respql.port, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$300000\r\n');
      expect(r).to.deep.equal({ data: '-ERR Protocol error: invalid bulk length\r\n', closed: true });
    });

    it('client-query-buffer-limit: a client piling up unparsed input is closed', async () => {
      // A bulk within proto-max-bulk-len, but more unparsed bytes than the limit: closed without a reply.
      const r = await bytesUntilClose(respql.port, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$150000\r\n' + 'x'.repeat(100_000));
      expect(r).to.deep.equal({ data: '', closed: true });
    });

    it('malformed protocol gets -ERR Protocol error and is closed, like Redis', async () => {
      expect(await bytesUntilClose(respql.port, '*1\r\n*1\r\n$4\r\nPING\r\n')).to.deep.equal({
        data: "-ERR Protocol error: expected '$', got '*'\r\n",
        closed: true,
      });
      expect(await bytesUntilClose(respql.port, '*abc\r\n')).to.deep.equal({
        data: '-ERR Protocol error: invalid multibulk length\r\n',
        closed: true,
      });
    });

    it('an HTTP request to the port is answered as Redis does, then dropped at the Host: line', async () => {
      const r = await bytesUntilClose(respql.port, 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
      expect(r).to.deep.equal({ data: "-ERR wrong number of arguments for 'get' command\r\n", closed: true });
    });

    it('client-output-buffer-limit: a client that never reads its replies is dropped', async function () {
      this.timeout(20_000);
      const setter = await RawClient.connect(respql.port);
      await setter.send('SET', 'big', 'x'.repeat(100_000));
      await setter.close();
      const socket = net.connect(respql.port, '127.0.0.1');
      socket.pause();
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      const request = Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(50));
      for (let i = 0; i < 20 && !socket.destroyed; i++) {
        socket.write(request);
        await sleep(50);
      }
      await closed;
      const other = await RawClient.connect(respql.port);
      expect(toStrings(await other.send('PING'))).to.equal('PONG');
      await other.close();
    });

    it('timeout: an idle client is closed', async () => {
      const r = await bytesUntilClose(respql.port, '', 4000);
      expect(r).to.deep.equal({ data: '', closed: true });
    });
  });
}

describe('client-output-buffer-limit soft limit', () => {
  it('drops a client whose unread replies stay above the soft limit for longer than its seconds (no hard limit)', async function () {
    this.timeout(30_000);
    const respql = await startRespql('sqlite');
    try {
      const admin = await RawClient.connect(respql.port);
      expect(toStrings(await admin.send('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 256kb 1'))).to.equal('OK');
      await admin.send('SET', 'big', 'x'.repeat(100_000));
      const socket = net.connect(respql.port, '127.0.0.1');
      socket.pause();
      let closed = false;
      socket.on('close', () => (closed = true));
      socket.on('error', () => undefined);
      const request = Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(20));
      const started = Date.now();
      // Keeps replies coming (the limit is checked as they are written) until the client is dropped.
      while (!closed && Date.now() - started < 15_000) {
        if (!socket.destroyed) socket.write(request);
        await sleep(100);
      }
      expect(closed, 'dropped').to.equal(true);
      expect(Date.now() - started).to.be.greaterThan(1000);
      expect(toStrings(await admin.send('PING'))).to.equal('PONG');
      await admin.close();
    } finally {
      await respql.stop();
    }
  });
});

describe('protected mode', () => {
  it('refuses a non-loopback address without a password, accepts it with one or when disabled', async () => {
    expect(() => createServer({ host: '0.0.0.0', databaseUrl: ':memory:' })).to.throw(ProtectedModeError, /protected mode/);
    for (const options of [{ requirepass: 'secret' }, { protectedMode: false }]) {
      const server = createServer({ host: '0.0.0.0', port: 0, databaseUrl: ':memory:', cleanupIntervalMs: 0, ...options });
      const { port } = await server.listen();
      expect((await rawExchange(port, 'PING\r\n')).toString()).to.match(/^(\+PONG|-NOAUTH)/);
      await server.close();
    }
  });
});
