/**
 * A worker thread that copies SQLite's WAL back into the database file (a PASSIVE checkpoint)
 * every few milliseconds. SQLite's own automatic checkpoint runs inside the COMMIT that crosses
 * its threshold: thousands of page writes and two fsyncs on the event loop, a 25 ms stall every
 * ~4 MB of writes. Here the copy runs beside the server; the main connection's automatic
 * checkpoint stays only as a backstop for a WAL this thread cannot keep up with.
 *
 * A checkpoint loses nothing: SQLite syncs the WAL before copying and the database file before
 * the WAL is reused, whatever the connection's synchronous setting.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
}

/** What the worker posts back: frames copied by one checkpoint, or why it failed. */
export type CheckpointReport = { copied: number } | { error: string };

const { file, intervalMs } = workerData as CheckpointWorkerData;
const port = parentPort!;
const db = new Database(file, { fileMustExist: true });

const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for a lock and never blocks a writer.
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    if (result.checkpointed > 0) port.postMessage({ copied: result.checkpointed } satisfies CheckpointReport);
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies CheckpointReport);
  }
}, intervalMs);

port.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
