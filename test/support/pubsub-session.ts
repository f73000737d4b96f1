/**
 * Pub/sub sessions for differential tests: several named connections take turns sending
 * commands; everything each connection receives (replies and pushed messages, as raw bytes)
 * is recorded per step, so respql's streams can be compared with redis-server's byte for byte.
 */
import { encodeCommand, RawClient } from './resp-client';

/** [connection name, argv]; a leading '~' on the name records the reply as '(ignored)' (HELLO's id differs). */
export type Step = [string, string[]];

/** Collects what arrives for this long after each step (deliveries are done by the time the publisher's reply is). */
const QUIET_MS = 40;

export async function runSession(port: number, steps: Step[]): Promise<string[]> {
  const conns = new Map<string, RawClient>();
  const out: string[] = [];
  const drain = async (name: string, client: RawClient, label: string) => {
    const bytes = await client.readRaw({ timeoutMs: QUIET_MS });
    if (bytes.length) out.push(`${name} <- ${label}: ${JSON.stringify(unorderedPatterns(bytes.toString('latin1')))}`);
  };
  try {
    for (const [rawName, argv] of steps) {
      const ignore = rawName.startsWith('~');
      const name = ignore ? rawName.slice(1) : rawName;
      let client = conns.get(name);
      if (!client) conns.set(name, (client = await RawClient.connect(port)));
      // Whatever reached this connection since its last step (messages others published).
      await drain(name, client, 'pending');
      client.sendRaw(encodeCommand(argv));
      if (ignore) {
        await client.readRaw({ timeoutMs: QUIET_MS });
        out.push(`${name} <- ${argv.join(' ')}: (ignored)`);
      } else await drain(name, client, argv.join(' '));
      // Messages published by this step, seen by every other connection.
      for (const [other, c] of conns) if (other !== name) await drain(other, c, `after ${name}: ${argv.join(' ')}`);
    }
  } finally {
    for (const c of conns.values()) await c.destroy();
  }
  return out;
}

/** Splits RESP2/RESP3 text into top-level frames (arrays, pushes, bulks, simple lines). */
export function frames(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  const skip = (): void => {
    const end = text.indexOf('\r\n', at);
    const head = text.slice(at, end);
    at = end + 2;
    const type = head[0];
    const n = Number(head.slice(1));
    if (type === '$' && n >= 0) at += n + 2;
    else if ((type === '*' || type === '>' || type === '%') && n > 0) for (let i = 0; i < (type === '%' ? 2 * n : n); i++) skip();
  };
  while (at < text.length) {
    const start = at;
    skip();
    out.push(text.slice(start, at));
  }
  return out;
}

/**
 * Redis delivers a message to the matching patterns in its dict's order, which a random hash
 * seed shuffles on every start: pmessages that arrive together are compared as a sorted run.
 */
function unorderedPatterns(text: string): string {
  const parts = frames(text);
  const isP = (f: string) => /^[*>]4\r\n\$8\r\npmessage\r\n/.test(f);
  for (let i = 0; i < parts.length; ) {
    let j = i;
    while (j < parts.length && isP(parts[j])) j++;
    if (j > i + 1) parts.splice(i, j - i, ...parts.slice(i, j).sort());
    i = Math.max(j, i + 1);
  }
  return parts.join('');
}
