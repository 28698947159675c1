import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { ADD_TEST, SECRET, secrets, startTestNode, TAXII, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, postObservedAddress } from './alert-test-kit.ts';

// A newer version of an indicator in another collection suppresses the matched version's alerts only
// when it provably has the same origin (the store's record: a verified signer, a home original, the
// contributor of the collection holding it). created_by_ref is authenticated only for organisations
// with pinned keys: any writer of a collection can copy a feed's reference, or leave it out.
const PARTNER = 'identity--b0000000-0000-4000-8000-0000000000b1';
const FEED = 'identity--c0000000-0000-4000-8000-0000000000c1';
const partnerSecret = 'ent_partner-secret-000000000000000000000000';

describe('a newer version by another origin, whatever created_by_ref it claims', () => {
  let node: TestNode;
  const genuineWithCreator = ipIndicator(90, '198.51.100.90', { created_by_ref: FEED, name: 'Genuine feed indicator' });
  const genuineWithoutCreator = ipIndicator(91, '198.51.100.91', { name: 'Genuine, no creator' });
  const olderHome = ipIndicator(92, '198.51.100.92', { created_by_ref: FEED, name: 'Home version 1' });
  const newerHome = ipIndicator(92, '198.51.100.192', { created_by_ref: FEED, modified: '2026-06-01T00:00:00.000Z', name: 'Home version 2' });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    await node.store.setMeta('default_collection', ADD_TEST);
    await node.store.createToken({ name: 'partner', secretHash: hashTokenSecret(partnerSecret), admin: false,
      grants: [{ collectionId: SECRET, read: false, write: true }], organisationId: PARTNER, createdAt: '2026-11-22T23:00:00.000Z', revokedAt: undefined });
    await node.store.addObjects(ADD_TEST, [genuineWithCreator, genuineWithoutCreator, olderHome]);
    await node.store.addObjects(SECRET, [newerHome]);
    const planted = [
      ipIndicator(90, '192.0.2.250', { created_by_ref: FEED, modified: '2026-06-01T00:00:00.000Z', name: 'Planted, claiming the feed' }),
      ipIndicator(91, '192.0.2.251', { modified: '2026-06-01T00:00:00.000Z', name: 'Planted, no creator' }),
    ];
    const posted = await node.app.inject({ method: 'POST', url: `/taxii2/api/collections/${SECRET}/objects/`,
      headers: { authorization: `Bearer ${partnerSecret}`, accept: TAXII, 'content-type': TAXII }, payload: { objects: planted } });
    assert.equal(posted.statusCode, 202, posted.body);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  const alertsOn = async (ip: string): Promise<string[]> =>
    (await postObservedAddress<{ indicator_name: string }>(node, { authorization: `Bearer ${secrets.admin}` }, ip, '2026-11-02T00:00:00.000Z')).map((alert) => alert.indicator_name);

  it('a partner copying the genuine created_by_ref hides nothing from the administrator', async () => {
    assert.deepEqual(await alertsOn('198.51.100.90'), ['Genuine feed indicator']);
    assert.deepEqual(await alertsOn('192.0.2.250'), ['Planted, claiming the feed']);
  });

  it('a partner leaving created_by_ref out, as the genuine version does, hides nothing', async () => {
    assert.deepEqual(await alertsOn('198.51.100.91'), ['Genuine, no creator']);
  });

  it('a newer version of the same origin (both the home organisation\'s own) still suppresses the older', async () => {
    assert.deepEqual(await alertsOn('198.51.100.92'), []);
    assert.deepEqual(await alertsOn('198.51.100.192'), ['Home version 2']);
  });
});
