import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const run = promisify(execFile);

/**
 * A non-Node client: Debian's python3-redis running the command set of Flask-Session /
 * django-redis (SET EX/PX NX, GET, EXISTS, PEXPIRE, PERSIST, TTL, DEL, pipelines).
 * Debian's interpreter is used explicitly: another python3 may come first on PATH.
 */
const SCRIPT = `
import sys, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = []
out.append(r.set('session:abc', b'\\x80\\x04pickled', ex=300))
out.append(r.get('session:abc') == b'\\x80\\x04pickled')
out.append(r.set('session:abc', b'other', px=1000, nx=True))
out.append(r.exists('session:abc', 'session:none'))
out.append(r.pexpire('session:abc', 60000))
out.append(59 <= r.ttl('session:abc') <= 60)
out.append(r.persist('session:abc'))
out.append(r.ttl('session:abc'))
p = r.pipeline(transaction=True)
p.set('session:x', 'v', ex=10).get('session:x').delete('session:x')
out.append(p.execute())
out.append(r.delete('session:abc'))
out.append(r.get('session:abc'))
print(repr(out))
`;

for (const backend of BACKENDS) {
  describe(`python3-redis (Flask-Session command set) against respql (${backend})`, () => {
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(async () => respql.stop());

    it('runs the session command set with Redis replies', async () => {
      const { stdout } = await run('/usr/bin/python3', ['-c', SCRIPT, String(respql.port)], { timeout: 20_000 });
      expect(stdout.trim()).to.equal("[True, True, None, 1, True, True, True, -1, [True, b'v', 1], 1, None]");
    });
  });
}
