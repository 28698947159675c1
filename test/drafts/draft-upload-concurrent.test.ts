// ENT_DRAFT_QUEUE_FULL bounds the memory uploads hold: one report drafted, 8 waiting, each with its
// body; "one more is refused at once and nothing of it is kept" (docs/errors.md). The queue counted
// an upload only once its whole body had arrived, so uploads sent at the same time were all read
// into memory, up to 64 MiB each and without any bound on their number, before the first was counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { authorization, errorOf, startCircleApiNode, type CircleApiNode } from '../api/circle-api-kit.ts';
import { expectStatus } from './draft-kit.ts';

/** A body that starts and has not ended yet: `first` is sent, then nothing until `end()` sends `last`. */
function arriving(first: string, last: string): Readable & { end(): void } {
  let sent = false;
  const stream = new Readable({
    read() {
      if (!sent) this.push(first);
      sent = true;
    },
  });
  return Object.assign(stream, {
    end: () => {
      stream.push(last);
      stream.push(null);
    },
  });
}

describe('POST /api/drafts while many uploads are still arriving', () => {
  let node: CircleApiNode;
  before(async () => {
    // One token fills the drafting queue here: past maxUploadsPerToken (4) it would be refused first, 429.
    node = await startCircleApiNode([], { draftUploadReceiveLimitMs: 20_000, maxUploadsPerToken: 16 });
  });
  after(() => node.close());

  it('counts an upload from its first byte: past the 9 places (1 drafted, 8 waiting) the next is refused at once, 503 ENT_DRAFT_QUEUE_FULL, its body unread', async () => {
    const bodies = Array.from({ length: 9 }, () => arriving('{"text": "C2 45.77.12.3', '."}'));
    const answers = bodies.map((payload) => node.app.inject({ method: 'POST', url: '/api/drafts', headers: { authorization: authorization('analyst'), 'content-type': 'application/json' }, payload }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const refused = await node.call('analyst', 'POST', '/api/drafts', { text: 'C2 45.77.12.4.' });
    assert.ok(Date.now() - started < 10_000, 'refused at once, not once the others arrived');
    const body = errorOf(expectStatus(refused, 503));
    assert.equal(body.error_code, 'ENT_DRAFT_QUEUE_FULL');
    // The 9 arriving uploads end and are drafted, one after another; their places are then free.
    for (const payload of bodies) payload.end();
    for (const answer of answers) expectStatus(await answer, 201);
    expectStatus(await node.call('analyst', 'POST', '/api/drafts', { text: 'C2 45.77.12.5.' }), 201);
  });
});
