/**
 * Starts the example: REDIS_URL points at respql (or at Redis: the app cannot tell).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 SESSION_SECRET=change-me npm start
 */
const { createClient } = require('redis');
const { createApp } = require('./app');

async function main() {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const port = Number(process.env.PORT ?? 3000);
  const client = createClient({ url });
  client.on('error', (err) => console.error(`session store: ${err.message}`));
  await client.connect();
  const app = createApp({ client, secret: process.env.SESSION_SECRET ?? 'change-me' });
  const server = app.listen(port, () => console.log(`example app on http://127.0.0.1:${port}, sessions in ${url}`));
  const stop = () => server.close(() => client.close().finally(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
