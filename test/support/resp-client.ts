/**
 * The tests' RESP client is respql's own (src/ops/resp-client.ts): one client for the ops
 * subcommands, the tests and the benchmark. Re-exported here for the tests' imports.
 */
export * from '../../src/ops/resp-client';
export { freePort } from './free-port';
