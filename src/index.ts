export { createServer, RespqlServer, DEFAULTS, type RespqlOptions } from './server/server';
export { RespError } from './protocol/errors';
export { knexConfigFor } from './store/knex-config';
export { migrationConfig } from './store/migrations';
export { TlsConfigError, type TlsOptions, type TlsAuthClients } from './server/tls';
