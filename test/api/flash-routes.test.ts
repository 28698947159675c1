/**
 * What a home token's grants on a circle's collection let it do with flashes over /api/flash
 * (docs/federation.md, "Flash messages and recalls", "Who may do what with a flash"): sending needs
 * the write grant; naming an indicator in it needs the read grant too, so that a token that may not
 * read the collection cannot learn from the answer whether it holds an indicator; acknowledging a
 * received flash speaks for the home organisation to the flash's sender, so it needs the write grant.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ORG, errorOf, startCircleApiNode, type CircleApiNode } from './circle-api-kit.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { ensureNodeKey } from '../../src/federation/node-key-lifecycle.ts';

const HELD = 'indicator--f1a5f1a5-0000-4000-8000-000000000001';
const ABSENT = 'indicator--f1a5f1a5-0000-4000-8000-000000000002';
const RECEIVED = 'f1a5f1a5-0000-4000-8000-00000000000a';

/** Home tokens (no partner organisation) with one grant each on the circle's collection. */
const tokens = {
  writer: { secret: 'ent_flash-writer-secret-00000000000000000000', read: false, write: true },
  reader: { secret: 'ent_flash-reader-secret-00000000000000000000', read: true, write: false },
  analyst: { secret: 'ent_flash-analyst-secret-0000000000000000000', read: true, write: true },
} as const;
type Holder = keyof typeof tokens;

describe('flash rights of home tokens over /api/flash', () => {
  let node: CircleApiNode;
  let collectionId: string;

  const call = (holder: Holder, url: string, body: unknown): Promise<LightMyRequestResponse> =>
    node.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${tokens[holder].secret}`, accept: 'application/json', 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const send = (holder: Holder, body: Record<string, unknown>) => call(holder, '/api/flash', { circle_id: 'wide', text: 'Block 10.9.9.9 now', ...body });
  const sentFlashes = async () => (await node.store.listFlashes({ limit: 50 })).filter((flash) => flash.direction === 'sent');

  before(async () => {
    node = await startCircleApiNode([]);
    // A node signs flashes with its own key (created at start by the running node).
    await ensureNodeKey(node.store, new Date());
    const made = await node.call('admin', 'POST', '/api/circles', { id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', default_tlp: 'amber', valid_until: '2099-01-01T00:00:00Z' });
    assert.equal(made.statusCode, 201, made.body);
    collectionId = made.json<{ collection_id: string }>().collection_id;
    await node.store.addObjects(collectionId, [
      {
        type: 'indicator', spec_version: '2.1', id: HELD, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
        name: 'held', pattern: "[ipv4-addr:value = '10.9.9.9']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      },
    ] as never);
    for (const [name, token] of Object.entries(tokens)) {
      await node.store.createToken({
        name: `flash-${name}`, secretHash: hashTokenSecret(token.secret), admin: false, grants: [{ collectionId, read: token.read, write: token.write }],
        organisationId: undefined, createdAt: new Date().toISOString(), revokedAt: undefined,
      });
    }
    await node.store.addFlash({
      id: RECEIVED, circleId: 'wide', direction: 'received', senderOrganisationId: ORG.bank, text: 'Our gateway is being exploited', indicatorId: undefined,
      sentAt: '2026-11-20T10:00:00.000Z', signedJson: '{}', receivedAt: '2026-11-20T10:00:01.000Z', acknowledged: undefined, receipts: [],
    });
  });
  after(async () => node.close());

  describe('sending', () => {
    it('a write grant alone sends a flash naming no indicator, and the answer shows it to its sender', async () => {
      const sent = await send('writer', {});
      assert.equal(sent.statusCode, 201, sent.body);
      const body = sent.json<{ flash: { id: string; text: string; indicator_id: string | null }; deliveries: unknown[] }>();
      assert.equal(body.flash.text, 'Block 10.9.9.9 now');
      assert.equal(body.flash.indicator_id, null);
      assert.ok((await sentFlashes()).some((flash) => flash.id === body.flash.id));
    });

    it('a write grant alone cannot name an indicator: the same refusal whether the collection holds it or not, and nothing is sent', async () => {
      const before = (await sentFlashes()).length;
      const held = await send('writer', { indicator_id: HELD });
      const absent = await send('writer', { indicator_id: ABSENT });
      assert.equal(held.statusCode, 403, held.body);
      assert.equal(errorOf(held).error_code, 'ENT_AUTH_FORBIDDEN');
      assert.match(errorOf(held).description, /read grant/);
      // Nothing in the answer depends on the indicator named, but its id.
      const without = (response: LightMyRequestResponse) => {
        const { error_id: _errorId, ...rest } = errorOf(response);
        return JSON.stringify(rest).replaceAll(HELD, 'ID').replaceAll(ABSENT, 'ID');
      };
      assert.equal(absent.statusCode, held.statusCode);
      assert.equal(without(absent), without(held));
      // A malformed id is refused alike: the grant is checked before anything about the id.
      const malformed = await send('writer', { indicator_id: 'indicator--nope' });
      assert.deepEqual([malformed.statusCode, errorOf(malformed).error_code], [403, 'ENT_AUTH_FORBIDDEN']);
      assert.equal((await sentFlashes()).length, before);
    });

    it('the read and write grants name an indicator the collection holds, and only such a one', async () => {
      const held = await send('analyst', { indicator_id: HELD });
      assert.equal(held.statusCode, 201, held.body);
      assert.equal(held.json<{ flash: { indicator_id: string } }>().flash.indicator_id, HELD);
      const absent = await send('analyst', { indicator_id: ABSENT });
      assert.deepEqual([absent.statusCode, errorOf(absent).error_code], [400, 'ENT_FLASH_INVALID']);
    });

    it('a read grant alone sends nothing', async () => {
      const sent = await send('reader', {});
      assert.deepEqual([sent.statusCode, errorOf(sent).error_code], [403, 'ENT_AUTH_FORBIDDEN']);
    });
  });

  describe('acknowledging a received flash', () => {
    it('is refused to a token with the read grant alone, and nothing is recorded or sent', async () => {
      const acked = await call('reader', `/api/flash/${RECEIVED}/ack`, { by: 'night shift' });
      assert.equal(acked.statusCode, 403, acked.body);
      assert.equal(errorOf(acked).error_code, 'ENT_AUTH_FORBIDDEN');
      assert.match(errorOf(acked).description, /write grant/);
      assert.equal((await node.store.getFlash(RECEIVED))?.acknowledged, undefined);
    });

    it('is the same unknown flash to a token that may not read the circle, as before', async () => {
      const acked = await call('writer', `/api/flash/${RECEIVED}/ack`, { by: 'night shift' });
      assert.deepEqual([acked.statusCode, errorOf(acked).error_code], [404, 'ENT_FLASH_NOT_FOUND']);
      assert.equal((await node.store.getFlash(RECEIVED))?.acknowledged, undefined);
    });

    it('is taken from a token with the read and write grants', async () => {
      const acked = await call('analyst', `/api/flash/${RECEIVED}/ack`, { by: 'duty officer' });
      assert.equal(acked.statusCode, 200, acked.body);
      assert.equal(acked.json<{ acknowledged: { by: string } }>().acknowledged.by, 'duty officer');
      // No peer link to the sender on this node: recorded here only.
      assert.equal(acked.json<{ sent_to_sender: boolean }>().sent_to_sender, false);
    });
  });
});
