/** A free loopback port, for the tests and the benchmark (scripts/) that start servers. */
import * as net from 'node:net';

/**
 * Asks the OS for a free loopback port. There is a small window in which
 * another process could take it before our server binds it, so callers that
 * start servers retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
