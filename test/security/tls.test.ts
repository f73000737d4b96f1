/**
 * TLS like redis-server: --tls-port beside (or instead of) --port, with --tls-cert-file,
 * --tls-key-file, --tls-ca-cert-file and --tls-auth-clients yes|optional|no. Certificates
 * are made at test time with openssl: a CA, a server certificate for 127.0.0.1/localhost
 * (subjectAltName), a client certificate from that CA, and one from a CA the server does
 * not trust. Clients: ioredis (tls option), node-redis (rediss://), redis-cli --tls.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { createServer } from '../../src';
import { TlsConfigError, type TlsAuthClients } from '../../src/server/tls';
import { cli } from '../ops/helpers';
import { encodeCommand, freePort } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { CLI, spawnRespql } from '../support/respql-process';

const execFileP = promisify(execFile);

interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  file(name: string): Buffer;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await execFileP('openssl', args, { cwd: dir });
}

/** A CA, a server certificate signed by it, a client certificate signed by it, and a client certificate from another CA. */
async function makeCertificates(): Promise<Certs> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-tls-'));
  const key = (name: string) => openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', name);
  const ca = async (name: string) => {
    await key(`${name}.key`);
    await openssl(dir, 'req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
  };
  const signed = async (name: string, caName: string, ext: string) => {
    await key(`${name}.key`);
    await openssl(dir, 'req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  await Promise.all([ca('ca'), ca('rogue-ca')]);
  await Promise.all([
    signed('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    signed('client', 'ca', 'extendedKeyUsage=clientAuth\n'),
    signed('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n'),
  ]);
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'),
    file: (name) => readFileSync(p(name)),
  };
}

/** Speaks RESP over TLS by hand: the reply to PING, or how the connection ended. */
function tlsPing(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ...options }, () => socket.write(encodeCommand(['PING'])));
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`timeout after ${JSON.stringify(data)}`);
    }, 10_000);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve(`error: ${err.message}`);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data || 'closed');
    });
  });
}

async function redisCli(port: number, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await execFileP('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--tls', ...args], { timeout: 20_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}

describe('TLS', function () {
  this.timeout(60_000);
  let certs: Certs;
  before(async () => (certs = await makeCertificates()));
  after(() => rmSync(certs.dir, { recursive: true, force: true }));

  const tlsOptions = (authClients?: TlsAuthClients) => ({
    port: 0,
    certFile: certs.serverCert,
    keyFile: certs.serverKey,
    caCertFile: certs.ca,
    ...(authClients ? { authClients } : {}),
  });
  const withClientCert = () => ({ ca: certs.file('ca.crt'), cert: certs.file('client.crt'), key: certs.file('client.key') });

  for (const backend of BACKENDS) {
    describe(`--tls-auth-clients yes, the default (${backend})`, () => {
      let respql: RunningRespql;
      let tlsPort: number;
      before(async () => {
        respql = await startRespql(backend, { tls: tlsOptions(), requirepass: 'tls-pass' });
        tlsPort = respql.server.tlsAddress()!.port;
      });
      after(async () => respql.stop());

      it('ioredis with a client certificate', async () => {
        const client = new Redis({ port: tlsPort, host: '127.0.0.1', password: 'tls-pass', tls: withClientCert(), lazyConnect: true });
        try {
          await client.connect();
          expect(await client.set('sess:tls-io', 'a')).to.equal('OK');
          expect(await client.get('sess:tls-io')).to.equal('a');
        } finally {
          client.disconnect();
        }
      });

      it('node-redis with rediss:// and a client certificate', async () => {
        const client = createClient({
          url: `rediss://127.0.0.1:${tlsPort}`,
          password: 'tls-pass',
          socket: { tls: true, ...withClientCert() },
        });
        await client.connect();
        try {
          expect(await client.get('sess:tls-io')).to.equal('a');
          expect(await client.set('sess:tls-nr', 'b')).to.equal('OK');
        } finally {
          client.destroy();
        }
      });

      it('redis-cli --tls --cacert --cert --key', async () => {
        const out = await redisCli(tlsPort, [
          '--cacert',
          certs.ca,
          '--cert',
          certs.clientCert,
          '--key',
          certs.clientKey,
          '--pass',
          'tls-pass',
          '--no-auth-warning',
          'GET',
          'sess:tls-nr',
        ]);
        expect(out).to.equal('b\n');
      });

      it('refuses a client without a certificate, or with one from another CA', async () => {
        expect(await tlsPing(tlsPort, { ca: certs.file('ca.crt') })).to.not.match(/PONG|NOAUTH/);
        expect(
          await tlsPing(tlsPort, { ca: certs.file('ca.crt'), cert: certs.file('rogue.crt'), key: certs.file('rogue.key') }),
        ).to.not.match(/PONG|NOAUTH/);
        expect(await tlsPing(tlsPort, withClientCert())).to.equal('-NOAUTH Authentication required.\r\n');
        const out = await redisCli(tlsPort, ['--cacert', certs.ca, '--pass', 'tls-pass', '--no-auth-warning', 'PING']);
        expect(out).to.not.include('PONG');
      });

      it('the plain port keeps working beside it; plain RESP on the TLS port gets nothing', async () => {
        const plain = new Redis({ port: respql.port, host: '127.0.0.1', password: 'tls-pass', lazyConnect: true });
        try {
          await plain.connect();
          expect(await plain.get('sess:tls-io')).to.equal('a');
        } finally {
          plain.disconnect();
        }
        const reply = await new Promise<string>((resolve) => {
          const socket = net.connect(tlsPort, '127.0.0.1', () => socket.write('PING\r\n'));
          let data = '';
          socket.on('data', (d) => (data += d.toString('latin1')));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve(data));
          setTimeout(() => socket.destroy(), 5000);
        });
        expect(reply).to.not.include('PONG');
      });
    });
  }

  describe('--tls-auth-clients optional and no', () => {
    it('optional: no certificate is fine, a certificate from the CA is fine, one from another CA is refused', async () => {
      const respql = await startRespql('sqlite', { tls: tlsOptions('optional') });
      try {
        const port = respql.server.tlsAddress()!.port;
        expect(await tlsPing(port, { ca: certs.file('ca.crt') })).to.equal('+PONG\r\n');
        expect(await tlsPing(port, withClientCert())).to.equal('+PONG\r\n');
        expect(
          await tlsPing(port, { ca: certs.file('ca.crt'), cert: certs.file('rogue.crt'), key: certs.file('rogue.key') }),
        ).to.not.include('PONG');
        expect(await redisCli(port, ['--cacert', certs.ca, 'PING'])).to.equal('PONG\n');
      } finally {
        await respql.stop();
      }
    });

    it('no: needs no CA, and client certificates are not asked for', async () => {
      const respql = await startRespql('sqlite', {
        tls: { port: 0, certFile: certs.serverCert, keyFile: certs.serverKey, authClients: 'no' },
      });
      try {
        const port = respql.server.tlsAddress()!.port;
        expect(await tlsPing(port, { ca: certs.file('ca.crt') })).to.equal('+PONG\r\n');
        expect(await tlsPing(port, { ca: certs.file('ca.crt'), cert: certs.file('rogue.crt'), key: certs.file('rogue.key') })).to.equal(
          '+PONG\r\n',
        );
        expect(await redisCli(port, ['--cacert', certs.ca, 'PING'])).to.equal('PONG\n');
        // The client checks the server too: a client trusting another CA gives up.
        expect(await tlsPing(port, { ca: certs.file('rogue-ca.crt') })).to.match(/^error: /);
      } finally {
        await respql.stop();
      }
    });

    it("port null (the CLI's --port 0): TLS only", async () => {
      const respql = await startRespql('sqlite', { port: null, tls: tlsOptions('no') });
      try {
        expect(respql.server.address()).to.equal(null);
        expect(respql.port).to.equal(respql.server.tlsAddress()!.port);
        expect(await tlsPing(respql.port, { ca: certs.file('ca.crt') })).to.equal('+PONG\r\n');
      } finally {
        await respql.stop();
      }
    });
  });

  describe('the respql command line', () => {
    const CLEAN_ENV = {
      RESPQL_PORT: '',
      RESPQL_TLS_PORT: '',
      RESPQL_TLS_CERT_FILE: '',
      RESPQL_TLS_KEY_FILE: '',
      RESPQL_TLS_CA_CERT_FILE: '',
      RESPQL_TLS_AUTH_CLIENTS: '',
    };

    it('serves TLS with --tls-* flags (and only TLS with --port 0)', async () => {
      const port = await freePort();
      const respql = await spawnRespql(
        [
          '--database-url',
          ':memory:',
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          certs.serverCert,
          '--tls-key-file',
          certs.serverKey,
          '--tls-ca-cert-file',
          certs.ca,
        ],
        CLEAN_ENV,
      );
      try {
        expect(respql.output()).to.include(`ready on 127.0.0.1:${port} (TLS)`);
        expect(
          await redisCli(port, ['--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey, 'CONFIG', 'GET', 'tls-*']),
        ).to.equal(`tls-port\n${port}\ntls-auth-clients\nyes\n`);
      } finally {
        expect(await respql.stop()).to.equal(0);
      }
    });

    it('a bad or missing file, or a missing CA, is one line naming the setting', async () => {
      const garbage = path.join(certs.dir, 'garbage.pem');
      writeFileSync(garbage, 'not a certificate\n');
      const base = ['--database-url', ':memory:', '--port', '0', '--tls-port', '0'];
      const files = (cert: string, key: string, ca?: string) => [
        '--tls-port',
        '1',
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        ...(ca ? ['--tls-ca-cert-file', ca] : []),
      ];
      for (const [args, setting] of [
        [files(path.join(certs.dir, 'missing.crt'), certs.serverKey, certs.ca), '--tls-cert-file'],
        [files(garbage, certs.serverKey, certs.ca), '--tls-cert-file'],
        [files(certs.serverCert, garbage, certs.ca), '--tls-key-file'],
        [files(certs.serverCert, certs.clientKey, certs.ca), '--tls-key-file'],
        [files(certs.serverCert, certs.serverKey, path.join(certs.dir, 'missing-ca.crt')), '--tls-ca-cert-file'],
        [files(certs.serverCert, certs.serverKey), '--tls-ca-cert-file'],
        [['--tls-port', '1', '--tls-key-file', certs.serverKey, '--tls-auth-clients', 'no'], '--tls-cert-file'],
        [['--tls-auth-clients', 'maybe'], '--tls-auth-clients'],
        [[], '--port'],
      ] as const) {
        const r = await cli([...base, ...args], { env: CLEAN_ENV, cliPath: CLI });
        expect(r.code, r.stdout + r.stderr).to.equal(1);
        expect(r.stdout).to.equal('');
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines, r.stderr).to.have.length(1);
        expect(lines[0]).to.match(/^respql: /);
        expect(lines[0]).to.include(setting);
      }
    });

    it('the library throws TlsConfigError', () => {
      expect(() =>
        createServer({ databaseUrl: ':memory:', tls: { port: 0, certFile: certs.serverCert, keyFile: certs.serverKey } }),
      ).to.throw(TlsConfigError, /--tls-ca-cert-file/);
    });
  });
});
