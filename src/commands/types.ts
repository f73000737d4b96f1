import type { Reply } from '../protocol/reply';
import type { RespError } from '../protocol/errors';
import type { PlainOp } from '../store/store';
import type { CommandContext } from './context';

/** Redis's command flags (as COMMAND INFO shows them) that respql uses. */
export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'no_multi'
  | 'movablekeys'
  | 'allow_busy';

/** A queued MULTI command: the spec and raw arguments, parsed when EXEC runs (as Redis does). */
export interface QueuedCommand {
  spec: CommandSpec<unknown>;
  argv: Buffer[];
}

/**
 * One command. `A` is what `parse` makes of the arguments and what `plain`, `dispatch`,
 * `settled` and `run` receive; those are methods (checked bivariantly), so any
 * CommandSpec<A> is a CommandSpec<unknown> (= CommandSpec): the table and the pipeline hold
 * them so, and each spec's own `parse` and `run` agree on A through `command<A>()`.
 */
export interface CommandSpec<A = unknown> {
  /** Lower-case name; for subcommands 'container|sub' as Redis 7 names them in errors. */
  readonly name: string;
  /** Redis arity: exact count including the name, or negative for "at least". */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** First key, last key (-1 = last argument), step; 0,0,0 when there are no keys. */
  readonly keys: readonly [number, number, number];
  /** Runs inside a store transaction (reads and writes of keys). */
  readonly data: boolean;
  /** Its transaction may outlast the database timeout (scripts; BUSY and SCRIPT KILL bound them). */
  readonly unbounded?: boolean;
  /** Key arguments where [first, last, step] cannot say (numkeys: EVAL, FCALL); COMMAND GETKEYS. */
  readonly getKeys?: (argv: Buffer[]) => Buffer[];
  readonly summary: string;
  readonly group: string;
  readonly since: string;
  /**
   * When the command is, for these arguments, one plain GET or unconditional SET: that
   * operation (the engine merges neighbouring ones into one statement). Its reply is the
   * value read, or OK. Null when the command needs its full `run`.
   */
  plain?(args: A, now: number): PlainOp | null;
  /** Pure: turns arguments into a typed value or throws RespError. */
  parse(argv: Buffer[]): A;
  /**
   * Runs as the command is read, before a data command waits for its turn in the store's
   * queue: for client state that the next commands of the same pipeline must see at once
   * (EXEC ends the transaction MULTI began; WATCH registers its keys). Returns the arguments
   * `run` gets, or an error reply (then `run` is skipped).
   */
  dispatch?(args: A, ctx: Pick<CommandContext, 'client' | 'server'>): A | RespError;
  /**
   * Runs once the command's transaction has settled; `failed` when the database failed it
   * (then `run` may never have run). Undoes what `dispatch` registered (EXEC's watches).
   */
  settled?(args: A, ctx: Pick<CommandContext, 'client' | 'server'>, failed: boolean): void;
  run(args: A, ctx: CommandContext): Reply | Promise<Reply>;
  /** For containers (CLIENT, CONFIG, COMMAND): lower-case subcommand name -> spec. */
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
}

/** Identity helper that keeps each command's argument type while checking its shape. */
export function command<A>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}
