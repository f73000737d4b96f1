/**
 * Loaded (instead of hooks.ts) by .mocharc.unit.json, the config of `npm run test:unit`:
 * the unit tier is the tests named *.unit.test.ts, which need no PostgreSQL, no
 * redis-server, no child process and no network. This keeps them that way: starting a
 * child process, listening on or connecting to a socket fails the test that tries, with a
 * message saying the test belongs in the full suite (`npm test`) under another name.
 */
import childProcess from 'node:child_process';
import net from 'node:net';

function forbid(what: string): never {
  throw new Error(
    `the unit tier (npm run test:unit) has no ${what}: name this test *.test.ts, not *.unit.test.ts, so that only npm test runs it`,
  );
}

const cp = childProcess as unknown as Record<string, unknown>;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  cp[name] = () => forbid(`child processes (child_process.${name})`);
}
net.Server.prototype.listen = function listen(): never {
  forbid('network servers (net.Server.listen)');
};
net.Socket.prototype.connect = function connect(): never {
  forbid('network connections (net.Socket.connect)');
};

export const mochaHooks: Mocha.RootHookObject = {};
