/**
 * `respql ping`: connects over TCP, (AUTHs when a password is configured,) sends PING and
 * succeeds only on +PONG. The Docker HEALTHCHECK runs it.
 */
import { DEFAULTS } from '../server/server';
import { RawClient, isErrorReply, replyText } from './resp-client';

export interface PingOptions {
  host?: string;
  port?: number | null;
  requirepass?: string | null;
  timeoutMs?: number;
}

/** A wildcard listen address is reached through the loopback of the same family. */
export function connectHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::' || bind === '[::]') return '::1';
  return bind;
}

/** Resolves with the server's answer to PING ("PONG"); rejects with a one-line reason otherwise. */
export async function ping(options: PingOptions = {}): Promise<string> {
  const host = connectHost(options.host ?? DEFAULTS.host);
  const port = options.port ?? DEFAULTS.port;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  let client: RawClient;
  try {
    client = await RawClient.connect(port, host, timeoutMs);
  } catch (err) {
    throw new Error(`cannot connect to ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    client.setReplyTimeout(timeoutMs);
    const commands: string[][] = [];
    if (options.requirepass) commands.push(['AUTH', options.requirepass]);
    commands.push(['PING']);
    const replies = await client.pipeline(commands);
    const reply = replies[replies.length - 1];
    if (isErrorReply(reply)) throw new Error(`${where} replied ${reply.error}`);
    const text = replyText(reply);
    if (text !== 'PONG') throw new Error(`${where} replied '${text}' instead of PONG`);
    return text;
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.startsWith(where) ? message : `${where}: ${message}`, { cause: err });
  } finally {
    await client.destroy();
  }
}
