import { connectionCommands } from './connection';
import { keyCommands } from './keys';
import { serverCommands } from './server';
import { stringCommands } from './strings';
import type { CommandSpec } from './types';

/** The command table: every command respql answers, by lower-case name. */
export function buildCommandTable(): Map<string, CommandSpec<any>> {
  const table = new Map<string, CommandSpec<any>>();
  for (const spec of [...connectionCommands, ...stringCommands, ...keyCommands, ...serverCommands]) {
    if (table.has(spec.name)) throw new Error(`command '${spec.name}' is defined twice`);
    table.set(spec.name, spec);
  }
  return table;
}
