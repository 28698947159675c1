// The body of POST /api/drafts must arrive within a bound. When the node's HTTP server set no request
// timeout (Fastify's default), a client that sent part of a body and then nothing more (or a byte
// now and then) held its connection and what it had sent, up to 64 MiB, for as long as it liked,
// before the drafting queue (and its limit of 8 waiting) ever counted it; and it never got an answer.
// The server now limits every request's arrival (requestTimeoutMs; test/node/slow-clients.test.ts,
// over real sockets); the route's own limit, tested here through inject, stays for a node whose
// request limit is set longer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { authorization, errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { expectStatus } from './draft-kit.ts';

/** A body that starts, then never ends: `first` is sent, and nothing after it. */
function neverEnding(first: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) this.push(first);
      sent = true;
    },
  });
}

describe('POST /api/drafts with a body that never ends', () => {
  let node: CircleApiNode;
  before(async () => {
    // One token fills the drafting queue here: past maxUploadsPerToken (4) it would be refused first, 429.
    node = await startCircleApiNode([], { draftUploadReceiveLimitMs: 300, maxUploadsPerToken: 16 });
  });
  after(() => node.close());

  it('answers 400 ENT_INPUT_UNREADABLE naming the limit once it passes, closes the connection, and keeps nothing', async () => {
    const started = Date.now();
    const response = await node.app.inject({
      method: 'POST',
      url: '/api/drafts',
      headers: { authorization: authorization('analyst'), 'content-type': 'application/json' },
      payload: neverEnding('{"text": "C2 45.77.12.3 and '),
    });
    const body = errorOf(expectStatus(response, 400));
    assert.equal(body.error_code, 'ENT_INPUT_UNREADABLE');
    assert.match(body.description, /body .*not received within 300 ms/);
    assert.deepEqual(body.details, { limit_ms: 300 });
    assert.equal(response.headers['connection'], 'close', 'the rest of the body is not waited for');
    assert.ok(Date.now() - started < 5000);
    const list = expectStatus(await node.call('analyst', 'GET', '/api/drafts'), 200).json<{ drafts: unknown[] }>();
    assert.deepEqual(list.drafts, []);
  });

  it('gives up the places in the drafting queue that bodies cut off held (all 9 of them)', async () => {
    const cutOff = await Promise.all(Array.from({ length: 9 }, () => node.app.inject({
      method: 'POST',
      url: '/api/drafts',
      headers: { authorization: authorization('analyst'), 'content-type': 'application/json' },
      payload: neverEnding('{"text": "C2 '),
    })));
    for (const response of cutOff) assert.equal(errorOf(expectStatus(response, 400)).error_code, 'ENT_INPUT_UNREADABLE');
    expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: 'C2 45.77.12.6.' }), 201);
  });

  it("refuses a partner's token before reading its body, so that it holds no place", async () => {
    const refused = await node.app.inject({
      method: 'POST',
      url: '/api/drafts',
      headers: { authorization: authorization('bank'), 'content-type': 'application/json' },
      payload: neverEnding('{"text": "C2 '),
    });
    assert.equal(errorOf(expectStatus(refused, 403)).error_code, 'ENT_DRAFT_HOME_ONLY');
  });

  it('still drafts a body that arrives within the limit', async () => {
    const made = expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: '# Small\nC2 45.77.12.3.\n' }), 201).json<{ items: { value: string }[] }>();
    assert.deepEqual(made.items.map((item) => item.value), ['45.77.12.3']);
  });
});
