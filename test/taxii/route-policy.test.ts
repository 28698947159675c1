import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { enforceRoutePolicies, routePolicies } from '../../src/server/route-policy.ts';
import { startTestNode, type TestNode } from './taxii-test-kit.ts';

describe('route policies', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
  });
  after(() => node.close());

  it('every registered route declares a known policy', () => {
    assert.ok(node.app.declaredRoutes.length >= 14, 'the app registers its routes through the policy hook');
    for (const route of node.app.declaredRoutes) {
      assert.ok(routePolicies.includes(route.policy), `${route.method} ${route.url} has policy ${route.policy}`);
    }
  });

  it('declares exactly these policies (a change here is a security review)', () => {
    const table = Object.fromEntries(
      node.app.declaredRoutes.filter((route) => route.method !== 'HEAD').map((route) => [`${route.method} ${route.url}`, route.policy]),
    );
    assert.deepEqual(table, {
      'GET /healthz': 'public',
      'GET /taxii2/': 'authenticated',
      'GET /taxii2/api/': 'authenticated',
      'GET /taxii2/api/collections/': 'authenticated',
      'GET /taxii2/api/collections/:collectionId/': 'collection-access',
      'GET /taxii2/api/collections/:collectionId/objects/': 'collection-read',
      'POST /taxii2/api/collections/:collectionId/objects/': 'collection-write',
      'GET /taxii2/api/collections/:collectionId/objects/:objectId/': 'collection-read',
      'DELETE /taxii2/api/collections/:collectionId/objects/:objectId/': 'collection-write',
      'GET /taxii2/api/collections/:collectionId/objects/:objectId/versions/': 'collection-read',
      'GET /taxii2/api/collections/:collectionId/manifest/': 'collection-read',
      'GET /taxii2/api/status/:statusId/': 'authenticated',
      'GET /api/search': 'authenticated',
      // Circles: every route authenticated; the operations check coordinator / member / administrator.
      'GET /api/circles': 'authenticated',
      'POST /api/circles': 'admin',
      'GET /api/circles/:circleId': 'authenticated',
      'GET /api/circles/:circleId/weaknesses': 'authenticated',
      'POST /api/circles/:circleId/counter': 'authenticated',
      'GET /api/circles/:circleId/counters': 'authenticated',
      'POST /api/circles/:circleId/members': 'authenticated',
      'POST /api/circles/:circleId/members/:organisationId/promote': 'authenticated',
      'POST /api/circles/:circleId/agreements': 'authenticated',
      'POST /api/circles/:circleId/accept': 'authenticated',
      'POST /api/circles/:circleId/leave': 'authenticated',
      'POST /api/circles/:circleId/end': 'authenticated',
      // Drafts: authenticated; every handler refuses a partner's token (home organisation only), and
      // publishing checks the write grant on the target collection.
      'GET /api/drafts': 'authenticated',
      'POST /api/drafts': 'authenticated',
      'GET /api/drafts/:draftId': 'authenticated',
      'POST /api/drafts/:draftId/items/:itemId': 'authenticated',
      'POST /api/drafts/:draftId/publish': 'authenticated',
      // Alerts: authenticated; a partner's token gets the 404 of a missing route (home organisation only),
      // and the stream sends only alerts whose indicator sits in a collection the token can read.
      'POST /api/observations': 'authenticated',
      'GET /api/alerts/stream': 'authenticated',
      // Peers: the node administrator only (a peer's token is a secret of the home organisation).
      'GET /api/peers': 'admin',
      'POST /api/peers': 'admin',
      'GET /api/peers/:name/status': 'admin',
      'DELETE /api/peers/:name': 'admin',
      'POST /api/peers/:name/sync': 'admin',
      // Flash messages: the home organisation's routes answer a partner's token with the 404 of a missing
      // route (sending and promoting also need the write grant on the circle's collection); the
      // federation routes take a partner's token whose organisation signed the message.
      'POST /api/flash': 'authenticated',
      'GET /api/flash': 'authenticated',
      'GET /api/flash/:flashId': 'authenticated',
      'POST /api/flash/:flashId/ack': 'authenticated',
      'POST /api/flash/:flashId/promote': 'authenticated',
      'POST /api/federation/flash': 'authenticated',
      'POST /api/federation/flash-acks': 'authenticated',
      'POST /api/federation/recalls': 'authenticated',
      // The node identity (organisation, public keys) other Entente nodes pin keys from: any token.
      'GET /api/federation/node': 'authenticated',
      // Quarantine: the node administrator only (it holds what partners sent, unchecked).
      'GET /api/quarantine': 'admin',
      'GET /api/quarantine/:seq': 'admin',
      'POST /api/quarantine/:seq/release': 'admin',
      'POST /api/quarantine/:seq/drop': 'admin',
    });
  });

  it('only /healthz is public', () => {
    const open = node.app.declaredRoutes.filter((route) => route.policy === 'public').map((route) => route.url);
    assert.deepEqual([...new Set(open)], ['/healthz']);
  });

  it('refuses to register a route that declares no policy', async () => {
    const app = Fastify();
    enforceRoutePolicies(app);
    assert.throws(() => app.get('/unguarded', async () => 'open'), /declares no access policy/);
    assert.throws(
      () => app.get('/typo', { config: { policy: 'everyone' as never } }, async () => 'open'),
      /declares no access policy/,
    );
    await app.close();
  });
});
