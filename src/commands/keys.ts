import { key, keys } from './args';
import { command } from './types';

export const del = command<string[]>({
  name: 'del', arity: -2, flags: ['write'], keys: [1, -1, 1], data: true,
  summary: 'Deletes one or more keys.', group: 'generic', since: '1.0.0',
  parse: (argv) => keys(argv.slice(1)),
  run: (ks, { store }) => store.delete(ks),
});

/** TTL/PTTL: -2 when absent, -1 without expiry, else the remaining time (TTL rounds to nearest second). */
function ttlCommand(name: 'ttl' | 'pttl', divisor: number) {
  return command<string>({
    name, arity: 2, flags: ['readonly', 'fast'], keys: [1, 1, 1], data: true,
    summary: name === 'ttl' ? 'Returns the expiration time in seconds of a key.' : 'Returns the expiration time in milliseconds of a key.',
    group: 'generic', since: name === 'ttl' ? '1.0.0' : '2.6.0',
    parse: (argv) => key(argv[1]),
    async run(k, { store }) {
      const entry = await store.getEntry(k);
      if (!entry) return -2;
      if (entry.expiry === null) return -1;
      const remaining = Math.max(0, entry.expiry - store.now);
      return divisor === 1 ? remaining : Math.floor((remaining + 500) / divisor);
    },
  });
}

export const ttl = ttlCommand('ttl', 1000);
export const pttl = ttlCommand('pttl', 1);

export const keyCommands = [del, ttl, pttl];
