import { connectionCommands } from './connection';
import { databaseCommands } from './databases';
import { counterCommands } from './counters';
import { expireCommands } from './expire';
import { hashCommands } from './hashes';
import { object } from './object';
import { setCommands } from './sets';
import { keyCommands } from './keys';
import { pubsubCommands } from './pubsub';
import { serverCommands } from './server';
import { stringCommands } from './strings';
import { discard, exec, multi, unwatch, watch } from './transactions';
import type { CommandSpec } from './types';
import { scriptingCommands } from './scripting';

/** The command table: every command respql answers, by lower-case name. */
export function buildCommandTable(): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of [
    ...connectionCommands,
    ...databaseCommands,
    ...stringCommands,
    ...counterCommands,
    ...keyCommands,
    ...expireCommands,
    ...hashCommands,
    ...setCommands,
    object,
    ...serverCommands,
    ...pubsubCommands,
    multi,
    exec,
    discard,
    watch,
    unwatch,
    ...scriptingCommands,
  ]) {
    if (table.has(spec.name)) throw new Error(`command '${spec.name}' is defined twice`);
    table.set(spec.name, spec);
  }
  return table;
}
