// Uploads still waiting for the drafting thread when the node stops will never be drafted. They
// were answered 500 ENT_HTTP_INTERNAL ("the draft worker pool is closed", a plain Error) once the
// upload in hand was done: an internal fault, as a client and an operator read it, for what is an
// ordinary stop. They are now answered at once 503 ENT_NODE_SHUTTING_DOWN, which says why and
// tells a client to send the upload again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { authorization, errorOf, startCircleApiNode } from '../api/circle-api-kit.ts';
import { expectStatus } from './draft-kit.ts';

describe('POST /api/drafts while the node stops', () => {
  it('answers the uploads waiting for the drafting thread 503 ENT_NODE_SHUTTING_DOWN, and drafts the one in hand', async () => {
    const node = await startCircleApiNode([]);
    try {
      const post = (text: string) => node.app.inject({ method: 'POST', url: '/api/drafts', headers: { authorization: authorization('analyst'), 'content-type': 'application/json' }, payload: JSON.stringify({ text }) });
      // The first upload starts the drafting thread, which loads the tagger: others queue meanwhile.
      const inHand = post('C2 45.77.12.9.');
      await delay(50);
      const waiting = [post('C2 45.77.12.10.'), post('C2 45.77.12.11.')];
      await delay(50);
      assert.equal(await Promise.race([inHand.then(() => 'answered'), delay(0, 'drafting')]), 'drafting', 'the first upload still holds the thread');
      // The app only, as a node stops: the store stays open for what is in hand (node.close() closes it after).
      const closing = node.app.close();
      for (const response of await Promise.all(waiting)) {
        const body = errorOf(expectStatus(response, 503));
        assert.equal(body.error_code, 'ENT_NODE_SHUTTING_DOWN');
        assert.match(body.description, /shutting down/);
      }
      expectStatus(await inHand, 201);
      await closing;
    } finally {
      await node.close();
    }
  });
});
