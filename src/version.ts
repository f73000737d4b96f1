import { readFileSync } from 'node:fs';
import path from 'node:path';

/** respql's own version, from package.json (dist/src/version.js -> ../../package.json). */
export const VERSION: string = (() => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(path.join(__dirname, rel), 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
})();
