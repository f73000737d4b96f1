import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { README, withCommandsTable } from '../../scripts/readme-commands';

describe('README', () => {
  it('lists exactly the commands of the command table (run `npm run readme` to refresh)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).to.equal(withCommandsTable(readme));
  });

  it('gives `npm test` as the test command that .ci/run runs', () => {
    const readme = readFileSync(README, 'utf8');
    const ci = readFileSync(README.replace('README.md', '.ci/run'), 'utf8');
    expect(readme).to.include('npm install && npm start');
    expect(readme).to.include('npm test');
    expect(ci).to.match(/^npm test$/m);
  });
});
