/**
 * Every error text respql sends lives here. The texts are Redis 7's, byte for byte:
 * clients match on them (ioredis falls back from HELLO on "NOPROTO"/"unknown command").
 */
export class RespError extends Error {
  /** `message` is the full wire text, prefix code included (e.g. "ERR syntax error"). */
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
  /** The first word of the message: ERR, WRONGTYPE, NOAUTH, ... */
  get code(): string {
    const space = this.message.indexOf(' ');
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

/** Redis prints arguments in errors truncated to 128 bytes. */
function clip(arg: Buffer | string): string {
  const text = typeof arg === 'string' ? arg : arg.toString('latin1');
  return text.length > 128 ? text.slice(0, 128) : text;
}

export const Errors = {
  onlySubscribeAllowed: (name: string) =>
    new RespError(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`),
  syntax: () => new RespError('ERR syntax error'),
  unknownCommand: (name: Buffer | string, args: Buffer[]) =>
    new RespError(`ERR unknown command '${clip(name)}', with args beginning with: ` + args.map((a) => `'${clip(a)}' `).join('')),
  unknownSubcommand: (sub: Buffer | string, command: string) =>
    new RespError(`ERR unknown subcommand '${clip(sub)}'. Try ${command.toUpperCase()} HELP.`),
  wrongArity: (name: string) => new RespError(`ERR wrong number of arguments for '${name}' command`),
  notInteger: () => new RespError('ERR value is not an integer or out of range'),
  notFloat: () => new RespError('ERR value is not a valid float'),
  invalidExpire: (command: string) => new RespError(`ERR invalid expire time in '${command}' command`),
  noAuth: () => new RespError('NOAUTH Authentication required.'),
  wrongPass: () => new RespError('WRONGPASS invalid username-password pair or user is disabled.'),
  helloNoAuth: () =>
    new RespError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> ' +
        'option can be used to authenticate the client and select the RESP protocol version at the same time',
    ),
  authNotConfigured: () =>
    new RespError(
      'ERR AUTH <password> called without any password configured for the default user. ' + 'Are you sure your configuration is correct?',
    ),
  noProto: () => new RespError('NOPROTO unsupported protocol version'),
  dbIndexOutOfRange: () => new RespError('ERR DB index is out of range'),
  invalidDbIndex: () => new RespError('ERR value is not an integer or out of range'),
  execAbort: () => new RespError('EXECABORT Transaction discarded because of previous errors.'),
  nestedMulti: () => new RespError('ERR MULTI calls can not be nested'),
  execWithoutMulti: () => new RespError('ERR EXEC without MULTI'),
  discardWithoutMulti: () => new RespError('ERR DISCARD without MULTI'),
  watchInMulti: () => new RespError('ERR WATCH inside MULTI is not allowed'),
  forbiddenInMulti: (_name: string) => new RespError(`ERR Command not allowed inside a transaction`),
  clientNameSpaces: () => new RespError('ERR Client names cannot contain spaces, newlines or special characters.'),
  /** respql-specific: keys are stored in a text column. */
  keyNotText: () => new RespError('ERR respql keys must be valid UTF-8 text without NUL bytes'),
  databaseUnavailable: (detail: string) => new RespError(`ERR database unavailable: ${detail}`),
  protocol: (detail: string) => new RespError(`ERR Protocol error: ${detail}`),
  noShutdownInProgress: () => new RespError('ERR No shutdown in progress.'),
  invalidCursor: () => new RespError('ERR invalid cursor'),
  noSuchKey: () => new RespError('ERR no such key'),
  sameObject: () => new RespError('ERR source and destination objects are the same'),
  unsupportedOption: (opt: Buffer) =>
    // addReplyErrorFormat turns CR/LF into spaces so the reply stays one line.
    new RespError(`ERR Unsupported option ${opt.toString('latin1').replace(/[\r\n]/g, ' ')}`),
  nxWithOthers: () => new RespError('ERR NX and XX, GT or LT options at the same time are not compatible'),
  gtAndLt: () => new RespError('ERR GT and LT options at the same time are not compatible'),
  /** getIntFromObjectOrReply on a 64-bit integer outside int's range. */
  intRange: () => new RespError('ERR value is out of range, value must between -2147483648 and 2147483647'),
  overflow: () => new RespError('ERR increment or decrement would overflow'),
  decrementOverflow: () => new RespError('ERR decrement would overflow'),
  nanOrInfinity: () => new RespError('ERR increment would produce NaN or Infinity'),
  offsetOutOfRange: () => new RespError('ERR offset is out of range'),
  stringTooLong: () => new RespError('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
  configUnknownOption: (name: string) => new RespError(`ERR Unknown option or number of arguments for CONFIG SET - '${clip(name)}'`),
  /** CONFIG SET refused a value; `reason` is one of ConfigReasons. */
  configSetFailed: (name: string, reason: string) =>
    new RespError(`ERR CONFIG SET failed (possibly related to argument '${clip(name)}') - ${reason}`),
  noSuchUser: (name: Buffer) => new RespError(`ERR No such user '${clip(name)}'`),
  unknownClientType: (name: Buffer) => new RespError(`ERR Unknown client type '${clip(name)}'`),
  noSuchClient: () => new RespError('ERR No such client'),
} as const;

/** Why CONFIG SET refused a value: Redis 7.0's texts (config.c). */
export const ConfigReasons = {
  immutable: "can't set immutable config",
  duplicate: 'duplicate parameter',
  notInteger: "argument couldn't be parsed into an integer",
  notMemory: 'argument must be a memory value',
  yesNo: "argument must be 'yes' or 'no'",
  range: (min: bigint, max: bigint) => `argument must be between ${min} and ${max} inclusive`,
  oneOf: (names: readonly string[]) => `argument(s) must be one of the following: ${names.join(', ')}`,
  bufferLimitArity: 'Wrong number of arguments in buffer limit configuration.',
  bufferLimitClass: 'Invalid client class specified in buffer limit configuration.',
  bufferLimitValue: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.',
} as const;
