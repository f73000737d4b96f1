import { expect } from 'chai';
import { usePeers } from '../support/differential';
import { runSession, type Step } from '../support/pubsub-session';
import { BACKENDS } from '../support/respql';

/**
 * Each session runs on fresh connections against redis-server and respql; every byte each connection receives must match.
 * Where Redis answers in its dicts' hash order (several channels of UNSUBSCRIBE without
 * arguments, PUBSUB CHANNELS), which a random seed changes on every start, a script asks for
 * one at a time.
 */
const sessions: { name: string; steps: Step[] }[] = [
  {
    name: "RESP2 subscribed mode: confirmations, allowed commands, Redis's error for the others, PING's shape",
    steps: [
      ['s', ['SUBSCRIBE', 'ps:a', 'ps:b', 'ps:a']],
      ['s', ['GET', 'x']],
      ['s', ['CONFIG', 'GET', 'save']],
      ['s', ['PUBLISH', 'ps:a', 'm']],
      ['s', ['PING']],
      ['s', ['PING', 'hi']],
      ['s', ['PSUBSCRIBE', 'ps:*', 'ps:?']],
      ['s', ['SSUBSCRIBE', 'ps:s']],
      ['s', ['MULTI']],
      ['s', ['UNSUBSCRIBE', 'ps:none', 'ps:a']],
      ['s', ['UNSUBSCRIBE']],
      ['s', ['PUNSUBSCRIBE', 'ps:?']],
      ['s', ['PUNSUBSCRIBE']],
      ['s', ['GET', 'x']],
      ['s', ['SUNSUBSCRIBE']],
      ['s', ['UNSUBSCRIBE']],
      ['s', ['PUNSUBSCRIBE']],
      ['s', ['SUNSUBSCRIBE']],
      ['s', ['PING']],
      ['s', ['GET', 'ps:x']],
      ['s', ['SUBSCRIBE']],
      ['s', ['SUBSCRIBE', 'ps:a']],
      ['s', ['RESET']],
      ['s', ['GET', 'ps:x']],
    ],
  },
  {
    name: 'messages, pattern messages and PUBLISH counts (RESP2)',
    steps: [
      ['a', ['SUBSCRIBE', 'ps:news', 'ps:sport']],
      ['b', ['PSUBSCRIBE', 'ps:n*', 'ps:*', 'ps:[ns]port']],
      ['c', ['SUBSCRIBE', 'ps:news']],
      ['p', ['PUBLISH', 'ps:news', 'hello']],
      ['p', ['PUBLISH', 'ps:sport', 'goal']],
      ['p', ['PUBLISH', 'ps:none', 'x']],
      ['p', ['PUBLISH', 'other', 'x']],
      ['p', ['PUBSUB', 'CHANNELS', 'ps:n*']],
      ['p', ['PUBSUB', 'CHANNELS', 'nothing*']],
      ['p', ['PUBSUB', 'NUMSUB', 'ps:news', 'ps:sport', 'ps:no']],
      ['p', ['PUBSUB', 'NUMSUB']],
      ['p', ['PUBSUB', 'NUMPAT']],
      ['p', ['PUBSUB', 'SHARDCHANNELS']],
      ['p', ['PUBSUB', 'SHARDNUMSUB', 'x']],
      ['p', ['PUBSUB', 'NOSUCH']],
      ['p', ['PUBSUB', 'NUMPAT', 'x']],
      ['p', ['PUBLISH', 'ps:news']],
      ['c', ['UNSUBSCRIBE', 'ps:news']],
      ['p', ['PUBLISH', 'ps:news', Buffer.from([0, 255, 13, 10]).toString('latin1')]],
      ['b', ['PUNSUBSCRIBE', 'ps:*']],
      ['p', ['PUBLISH', 'ps:sport', 'x']],
      ['p', ['PUBSUB', 'NUMPAT']],
    ],
  },
  {
    name: 'RESP3: push messages mixed with replies, no subscribed-mode limits',
    steps: [
      ['~a', ['HELLO', '3']],
      ['a', ['SUBSCRIBE', 'ps:3']],
      ['a', ['PSUBSCRIBE', 'ps:3*']],
      ['a', ['SET', 'ps:k', 'v']],
      ['a', ['GET', 'ps:k']],
      ['a', ['PUBLISH', 'ps:3', 'self']],
      ['p', ['PUBLISH', 'ps:3', 'other']],
      ['a', ['PING']],
      ['a', ['UNSUBSCRIBE']],
      ['a', ['PUNSUBSCRIBE']],
      ['a', ['UNSUBSCRIBE']],
      ['a', ['SSUBSCRIBE', 'ps:sh']],
      ['p', ['SPUBLISH', 'ps:sh', 'shard']],
      ['p', ['SPUBLISH', 'ps:sh']],
      ['a', ['SUNSUBSCRIBE', 'ps:sh', 'ps:x']],
      // A client's own write raises a keyspace event it listens to: the push comes before the write's reply.
      ['a', ['CONFIG', 'SET', 'notify-keyspace-events', 'K$']],
      ['a', ['SUBSCRIBE', '__keyspace@0__:ps:k']],
      ['a', ['SET', 'ps:k', 'v2']],
      ['a', ['APPEND', 'ps:k', 'v3']],
      ['a', ['CONFIG', 'SET', 'notify-keyspace-events', '']],
      ['a', ['DEL', 'ps:k']],
    ],
  },
  {
    name: 'shard channels (RESP2)',
    steps: [
      ['a', ['SSUBSCRIBE', 'ps:s1', 'ps:s2']],
      ['a', ['SUBSCRIBE', 'ps:c']],
      ['p', ['SPUBLISH', 'ps:s1', 'one']],
      ['p', ['PUBLISH', 'ps:s1', 'not-shard']],
      ['p', ['PUBSUB', 'SHARDCHANNELS', '*2']],
      ['p', ['PUBSUB', 'SHARDCHANNELS', 'none']],
      ['p', ['PUBSUB', 'SHARDNUMSUB', 'ps:s1', 'ps:none']],
      ['a', ['SUNSUBSCRIBE', 'ps:s2']],
      ['a', ['SUNSUBSCRIBE']],
      ['a', ['UNSUBSCRIBE']],
      ['a', ['PING']],
    ],
  },
];

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: pub/sub (${backend})`, () => {
    const peers = usePeers(backend);
    for (const session of sessions) {
      it(session.name, async () => {
        // Each session waits out quiet periods; the two servers are independent, so both run at once.
        const [expected, actual] = await Promise.all([
          runSession(peers.redis.port, session.steps),
          runSession(peers.respql.port, session.steps),
        ]);
        expect(actual).to.deep.equal(expected);
      });
    }
  });
}
