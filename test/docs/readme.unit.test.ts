import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { README, SETTINGS_END, SETTINGS_START, settingsMarkdown, withCommandsTable } from '../../scripts/readme-commands';
import { configName, SETTINGS } from '../../src/settings';

describe('README', () => {
  it('lists exactly the commands of the command table (run `npm run readme` to refresh)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).to.equal(withCommandsTable(readme));
  });

  it('gives the settings table made from src/settings.ts: every setting, its flag, variable, default and CONFIG name', () => {
    const readme = readFileSync(README, 'utf8');
    const block = readme.slice(readme.indexOf(SETTINGS_START), readme.indexOf(SETTINGS_END) + SETTINGS_END.length);
    expect(block).to.equal(settingsMarkdown());
    for (const s of SETTINGS) {
      if (s.commands.length) expect(block).to.include(`| \`--${s.name}\` |`);
      if (s.runtime) expect(block).to.include(`\`${configName(s)}\``);
    }
    expect(block).to.include('| `--proto-max-bulk-len` | `RESPQL_PROTO_MAX_BULK_LEN` | `512mb` | GET, SET `proto-max-bulk-len` |');
  });

  it('gives `npm test` as the test command that .ci/run runs', () => {
    const readme = readFileSync(README, 'utf8');
    const ci = readFileSync(README.replace('README.md', '.ci/run'), 'utf8');
    expect(readme).to.include('npm install && npm start');
    expect(readme).to.include('npm test');
    expect(ci).to.match(/^npm test$/m);
  });
});
