import { expect } from 'chai';
import { createLogger, formatTextLine, redactText, redactUrl } from '../../src/ops/logger';

describe('ops logger', () => {
  function capture(level: 'debug' | 'verbose' | 'notice' | 'warning', format: 'json' | 'text' = 'json') {
    const lines: string[] = [];
    const log = createLogger({ level, format, destination: { write: (s: string) => lines.push(s) } });
    return { log, lines };
  }

  it('uses redis-server level names and filters by them', () => {
    const { log, lines } = capture('verbose');
    log.debug('d');
    log.verbose('v');
    log.notice('n');
    log.warning('w');
    expect(lines.map((l) => JSON.parse(l).level)).to.deep.equal(['verbose', 'notice', 'warning']);
    expect(lines.map((l) => JSON.parse(l).msg)).to.deep.equal(['v', 'n', 'w']);
  });

  it('censors password fields', () => {
    const { log, lines } = capture('notice');
    log.notice({ requirepass: 'x1', source: { password: 'x2' } }, 'hello');
    expect(lines[0]).to.not.include('x1').and.not.include('x2');
    expect(JSON.parse(lines[0]).requirepass).to.equal('***');
  });

  it('formats text lines like redis-server', () => {
    const line = formatTextLine(
      JSON.stringify({ level: 'warning', time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 42, msg: 'disk', table: 's', note: 'a b' }),
    );
    expect(line).to.match(/^42:M 0\d Jan 2026 \d\d:04:05\.006 # disk table=s note="a b"\n$/);
    const { lines } = (() => {
      const c = capture('notice', 'text');
      c.log.notice('ready');
      return c;
    })();
    expect(lines[0]).to.match(/^\d+:M .* \* ready\n$/);
  });

  it('redacts URL passwords', () => {
    expect(redactUrl('postgres://app:pw@db:5432/x')).to.equal('postgres://app:***@db:5432/x');
    expect(redactUrl('postgres://app@db/x')).to.equal('postgres://app@db/x');
    expect(redactUrl('/data/respql.sqlite')).to.equal('/data/respql.sqlite');
    expect(redactText('failed for redis://:pw@h:1 and postgres://u:p@h/d')).to.equal(
      'failed for redis://:***@h:1 and postgres://u:***@h/d',
    );
  });
});
