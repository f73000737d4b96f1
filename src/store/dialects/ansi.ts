/** What PostgreSQL and SQLite write alike: the pieces of the Dialect interface both take from the SQL standard's line. */
import type { Dialect } from '../dialect';

/** `ON CONFLICT (target) DO UPDATE SET ... WHERE ...`, with the INSERT's row as `excluded`. */
export const onConflict: Dialect['onConflict'] = (target, update) => {
  if (!update) return `ON CONFLICT (${target}) DO NOTHING`;
  const { set, where } = update((column) => `excluded.${column}`);
  const assignments = Object.entries(set)
    .map(([column, value]) => `${column} = ${value}`)
    .join(', ');
  return `ON CONFLICT (${target}) DO UPDATE SET ${assignments}${where ? ` WHERE ${where}` : ''}`;
};

export const limitedSubquery: Dialect['limitedSubquery'] = (select) => `(${select})`;
