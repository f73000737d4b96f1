/**
 * A TCP proxy in front of PostgreSQL that cuts a connection at a chosen point of the wire
 * protocol: what a failover does to a client, but at an exact moment. It reads the frontend
 * messages (type byte, int32 length, body) and the backend's the same way.
 *
 * Armed with a marker (bytes a statement's parameters will carry, such as a key name), the
 * first connection that sends it is cut at its next `at` message (COMMIT sent as a simple
 * query, or an extended-protocol Sync, which ends an autocommitted statement, or a Bind):
 * either before the message reaches the server (it never ran; the server rolls back), or after
 * the server has answered it (it ran and committed), with the answer dropped.
 */
import net from 'node:net';

export type CutPoint = 'commit' | 'sync' | 'bind';

export interface CutPlan {
  marker: string;
  at: CutPoint;
  /** true: the server runs the message and its answer is lost; false: the message never arrives. */
  delivered: boolean;
}

export class PgCutProxy {
  private server: net.Server | null = null;
  private plan: CutPlan | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Connections cut so far. */
  cuts = 0;
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.connection(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Cuts the next connection that sends `plan.marker`, as the plan says. */
  arm(plan: CutPlan): void {
    this.plan = plan;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private connection(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    /** This connection's cut, once it has sent the marker. */
    let triggered: CutPlan | null = null;
    /** Dropping the server's answers until its ReadyForQuery, then cutting. */
    let swallowing = false;
    const cut = () => {
      this.cuts++;
      client.destroy();
      upstream.destroy();
    };

    // The startup message has no type byte; every later one has.
    messages(client, true, (type, message) => {
      if (!triggered && this.plan && message.includes(this.plan.marker)) {
        triggered = this.plan;
        this.plan = null;
      }
      if (triggered && !swallowing && matches(triggered.at, type, message)) {
        if (!triggered.delivered) return cut();
        swallowing = true;
      }
      upstream.write(message);
    });
    messages(upstream, false, (type, message) => {
      if (!swallowing) client.write(message);
      else if (type === 'Z') cut();
    });
  }
}

function matches(at: CutPoint, type: string, message: Buffer): boolean {
  if (at === 'sync') return type === 'S';
  if (at === 'bind') return type === 'B';
  // Query: 'Q', length, the SQL text (null-terminated).
  return type === 'Q' && /^\s*COMMIT/i.test(message.subarray(5).toString('latin1'));
}

/** Calls `each` with every whole protocol message read from `socket`. */
function messages(socket: net.Socket, untypedFirst: boolean, each: (type: string, message: Buffer) => void): void {
  let buffer = Buffer.alloc(0);
  let first = untypedFirst;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const header = first ? 0 : 1;
      if (buffer.length < header + 4) return;
      const length = header + buffer.readInt32BE(header);
      if (buffer.length < length) return;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      const type = first ? '' : String.fromCharCode(message[0]);
      first = false;
      each(type, message);
    }
  });
}
