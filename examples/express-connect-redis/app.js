/**
 * A small express app whose sessions live in respql, through the stock connect-redis
 * store and node-redis client: nothing here knows it is not talking to Redis.
 *
 *   GET  /        greets you and counts your visits in the session
 *   POST /login   ?name=alice: starts a new session (a new id, as after any login)
 *   POST /logout  ends the session: its key is deleted
 */
const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');

/**
 * @param {object} options
 * @param {import('redis').RedisClientType} options.client a connected node-redis client
 * @param {string} options.secret the cookie signing secret
 * @param {number} [options.maxAgeMs] session lifetime; connect-redis sets the key's TTL to match
 */
function createApp({ client, secret, maxAgeMs = 24 * 60 * 60 * 1000 }) {
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'sess:' }),
      secret,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: maxAgeMs, httpOnly: true, sameSite: 'lax' },
    }),
  );

  app.get('/', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    const who = req.session.user ?? 'stranger';
    res.type('text').send(`Hello ${who}, this is visit ${req.session.views} of this session.\n`);
  });

  app.post('/login', (req, res, next) => {
    const name = String(req.query.name ?? '').trim();
    if (!name) return void res.status(400).type('text').send('?name= is required\n');
    // A fresh session id at login guards against session fixation.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = name;
      res.type('text').send(`Logged in as ${name}.\n`);
    });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('connect.sid').type('text').send('Logged out.\n');
    });
  });

  return app;
}

module.exports = { createApp };
