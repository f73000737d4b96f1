/**
 * The TLS listener's settings, with redis-server's names and meaning:
 *
 *   tls-port, tls-cert-file, tls-key-file, tls-ca-cert-file,
 *   tls-auth-clients yes (default: a client certificate signed by the CA is required)
 *                    optional (a certificate is not required, but one that is given must be valid)
 *                    no (client certificates are neither required nor checked)
 *
 * As in Redis, `yes` and `optional` need a CA to check certificates against. Every file is
 * read and checked here, at start-up, so that a bad one stops the server with one line
 * naming the setting instead of failing on the first connection.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

export type TlsAuthClients = 'yes' | 'no' | 'optional';

export interface TlsOptions {
  /** tls-port; 0 picks a free one. Without it there is no TLS listener. */
  port?: number;
  /** tls-cert-file: the server certificate (PEM; may be followed by its chain). */
  certFile?: string;
  /** tls-key-file: the server's private key (PEM, unencrypted). */
  keyFile?: string;
  /** tls-ca-cert-file: CA certificate(s) that sign client certificates. */
  caCertFile?: string;
  /** tls-auth-clients. Default 'yes'. */
  authClients?: TlsAuthClients;
}

export class TlsConfigError extends Error {}

function readPem(setting: string, file: string, check: (pem: Buffer) => unknown, what: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new TlsConfigError(`invalid ${setting} '${file}': ${reason}`);
  }
  try {
    check(pem);
  } catch {
    throw new TlsConfigError(`invalid ${setting} '${file}': not ${what}`);
  }
  return pem;
}

/** Reads and checks the files; the result is what tls.createServer takes. */
export function tlsServerOptions(o: TlsOptions): tls.TlsOptions {
  const authClients = o.authClients ?? 'yes';
  if (!o.certFile) throw new TlsConfigError('missing --tls-cert-file: --tls-port needs a server certificate');
  if (!o.keyFile) throw new TlsConfigError('missing --tls-key-file: --tls-port needs the private key of --tls-cert-file');
  const cert = readPem('--tls-cert-file', o.certFile, (pem) => new X509Certificate(pem), 'a PEM certificate');
  const key = readPem('--tls-key-file', o.keyFile, (pem) => createPrivateKey(pem), 'an unencrypted PEM private key');
  const ca = o.caCertFile ? readPem('--tls-ca-cert-file', o.caCertFile, (pem) => new X509Certificate(pem), 'a PEM certificate') : undefined;
  if (authClients !== 'no' && !ca) {
    throw new TlsConfigError(
      `missing --tls-ca-cert-file: --tls-auth-clients ${authClients} checks client certificates against it (or set --tls-auth-clients no)`,
    );
  }
  try {
    tls.createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new TlsConfigError(
      `invalid --tls-key-file '${o.keyFile}': ${(err as Error).message.split('\n')[0]} (does it belong to --tls-cert-file?)`,
    );
  }
  return {
    cert,
    key,
    ca,
    requestCert: authClients !== 'no',
    // 'optional' accepts a handshake without a certificate; acceptsPeer() then rejects a bad one.
    rejectUnauthorized: authClients === 'yes',
  };
}

/** tls-auth-clients optional: no certificate is fine, an unverified one is not. */
export function acceptsPeer(socket: tls.TLSSocket, authClients: TlsAuthClients): boolean {
  if (authClients !== 'optional' || socket.authorized) return true;
  const cert = socket.getPeerCertificate();
  return !cert || Object.keys(cert).length === 0;
}
