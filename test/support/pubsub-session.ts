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
  /** What each connection received while others acted: recorded as one entry before its next step, so timing between steps does not matter. */
  const received = new Map<string, string>();
  const out: string[] = [];
  const show = (text: string) => JSON.stringify(unorderedPatterns(text));
  const flushReceived = (name: string) => {
    const text = received.get(name);
    if (text) out.push(`${name} <- received: ${show(text)}`);
    received.delete(name);
  };
  try {
    for (const [rawName, argv] of steps) {
      const ignore = rawName.startsWith('~');
      const name = ignore ? rawName.slice(1) : rawName;
      let client = conns.get(name);
      if (!client) conns.set(name, (client = await RawClient.connect(port)));
      received.set(name, (received.get(name) ?? '') + (await client.readRaw({ timeoutMs: 1 })).toString('latin1'));
      flushReceived(name);
      client.sendRaw(encodeCommand(argv));
      // The reply (a database commit may take a while), then anything right behind it.
      const first = await client.readRaw({ minBytes: 1, timeoutMs: 10_000 });
      const text = Buffer.concat([first, await client.readRaw({ timeoutMs: QUIET_MS })]).toString('latin1');
      out.push(`${name} <- ${argv.join(' ')}: ${ignore ? '(ignored)' : show(text)}`);
      for (const [other, c] of conns) {
        if (other !== name) received.set(other, (received.get(other) ?? '') + (await c.readRaw({ timeoutMs: 1 })).toString('latin1'));
      }
    }
    // Deliveries still on their way (keyspace events cross PostgreSQL after the command's reply).
    for (const [name, c] of conns) {
      received.set(name, (received.get(name) ?? '') + (await c.readRaw({ timeoutMs: 4 * QUIET_MS })).toString('latin1'));
      flushReceived(name);
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
 * seed shuffles on every start: pmessages that arrive together are grouped by pattern (a stable
 * sort, so the order of the messages of each pattern still counts).
 */
function unorderedPatterns(text: string): string {
  const parts = frames(text);
  const pattern = (f: string) => /^[*>]4\r\n\$8\r\npmessage\r\n\$\d+\r\n([^\r]*)\r\n/.exec(f)?.[1];
  for (let i = 0; i < parts.length;) {
    let j = i;
    while (j < parts.length && pattern(parts[j]) !== undefined) j++;
    if (j > i + 1)
      parts.splice(i, j - i, ...parts.slice(i, j).sort((a, b) => (pattern(a)! < pattern(b)! ? -1 : pattern(a)! > pattern(b)! ? 1 : 0)));
    i = Math.max(j, i + 1);
  }
  return parts.join('');
}
