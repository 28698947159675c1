// Whose version a relayed indicator is, for the matcher: a newer version of an indicator suppresses the
// alerts of an older one only when both are provably of one origin (correlate/version-origin.ts), and
// that origin is decided by the rule the release gate applies to relayed content (policy/version-origin.ts,
// originOfVersion). A sync records the peer that delivered a page as the contributor of every version in
// it: that peer is a relay, not the author. A relay that stripped a member's signature, or re-signed the
// member's version as derived, and then writes a "newer version" of its own under the member's name,
// must not silence the member's; a member's own redacted versions, re-signed by its node and relayed by
// two different peers, are one origin, the newer superseding the older.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher } from '../../src/correlate/bulk-matcher.ts';
import { IndicatorLoader } from '../../src/correlate/load-indicators.ts';
import { observation } from '../../src/correlate/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { ArrivedObject, FederationStore } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { HIGH_VALUE, SECRET, secrets, startTestNode, TAXII, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, postObservedAddress } from './alert-test-kit.ts';

const MEMBER = 'identity--a0000000-0000-4000-8000-0000000000a7';
const RELAY = 'identity--b0000000-0000-4000-8000-0000000000b7';
const OTHER_RELAY = 'identity--c0000000-0000-4000-8000-0000000000c7';
const relaySecret = 'ent_relay-secret-00000000000000000000000000';
const memberSecret = 'ent_member-secret-0000000000000000000000000';
const newer = '2026-06-01T00:00:00.000Z';
type Store = TestNode['store'] & Pick<FederationStore, 'applySyncBatch' | 'addPeer'>;

/** `objects` delivered by `peer` (its organisation recorded as their contributor), as `verification` with `signer`. */
async function relay(store: Store, peer: string, organisation: string, collectionId: string, objects: readonly StixObject[], verification: ArrivedObject['verification'], signer: string | undefined): Promise<void> {
  const accepted: ArrivedObject[] = objects.map((object) => ({ object, signer, keyId: undefined, verification, hops: [MEMBER, organisation] }));
  await store.applySyncBatch({ collectionId, peer, circleId: 'circle', source: 'pull', contributorOrganisationId: organisation, accepted, quarantined: [], receivedAt: '2026-11-19T10:00:00Z' });
}

describe('a relayed version and a newer one, for the matcher', () => {
  let node: TestNode;
  const stripped = ipIndicator(70, '198.51.100.70', { created_by_ref: MEMBER, name: 'Member, signature stripped by the relay' });
  const rederived = ipIndicator(71, '198.51.100.71', { created_by_ref: MEMBER, name: 'Member, re-signed as derived by the relay' });
  const ownOlder = ipIndicator(72, '198.51.100.72', { created_by_ref: MEMBER, name: 'Member redacted version 1' });
  const ownNewer = ipIndicator(72, '198.51.100.172', { created_by_ref: MEMBER, modified: newer, name: 'Member redacted version 2' });
  const memberPosted = ipIndicator(73, '198.51.100.73', { created_by_ref: MEMBER, name: 'Member, POSTed, a copy re-signed by the relay' });
  const homeWritten = ipIndicator(74, '198.51.100.74', { name: 'Home original, a copy re-signed by the relay' });
  before(async () => {
    node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
    const store = node.store as Store;
    for (const [name, organisationId, localCollectionId] of [['relay', RELAY, HIGH_VALUE], ['other-relay', OTHER_RELAY, SECRET]] as const) {
      await store.addPeer({
        name, url: `https://${name}.example/taxii2/`, apiRootUrl: `https://${name}.example/api/`, token: 'test', circleId: 'circle', localCollectionId,
        remoteCollectionId: 'circle', organisationId, kind: 'entente', push: false, intervalSeconds: 300, silentAfter: 3, createdAt: '2026-11-19T10:00:00Z',
      });
    }
    await relay(store, 'relay', RELAY, HIGH_VALUE, [stripped], 'unverified', undefined);
    await relay(store, 'relay', RELAY, HIGH_VALUE, [rederived], 'derived', RELAY);
    // The member's node re-signs its own redacted versions; two relays deliver them into two collections.
    await relay(store, 'relay', RELAY, HIGH_VALUE, [ownOlder], 'derived', MEMBER);
    await relay(store, 'other-relay', OTHER_RELAY, SECRET, [ownNewer], 'derived', MEMBER);
    // The relay, also a partner writing to SECRET, plants "newer versions" under the member's name.
    await store.createToken({ name: 'relay', secretHash: hashTokenSecret(relaySecret), admin: false,
      grants: [{ collectionId: SECRET, read: false, write: true }], organisationId: RELAY, createdAt: '2026-11-22T23:00:00.000Z', revokedAt: undefined });
    const planted = [
      ipIndicator(70, '192.0.2.170', { created_by_ref: MEMBER, modified: newer, name: 'Planted over the stripped version' }),
      ipIndicator(71, '192.0.2.171', { created_by_ref: MEMBER, modified: newer, name: 'Planted over the derived copy' }),
    ];
    const posted = await node.app.inject({ method: 'POST', url: `/taxii2/api/collections/${SECRET}/objects/`,
      headers: { authorization: `Bearer ${relaySecret}`, accept: TAXII, 'content-type': TAXII }, payload: { objects: planted } });
    assert.equal(posted.statusCode, 202, posted.body);
    // The member, a partner writing to SECRET too, POSTs a version; the home writes one there. The relay,
    // holding copies, signs each as its own, delivers it, then a "newer version" under the same creator.
    await store.createToken({ name: 'member', secretHash: hashTokenSecret(memberSecret), admin: false,
      grants: [{ collectionId: SECRET, read: false, write: true }], organisationId: MEMBER, createdAt: '2026-11-22T23:00:00.000Z', revokedAt: undefined });
    for (const [secret, object] of [[memberSecret, memberPosted], [secrets.admin, homeWritten]] as const) {
      const r = await node.app.inject({ method: 'POST', url: `/taxii2/api/collections/${SECRET}/objects/`,
        headers: { authorization: `Bearer ${secret}`, accept: TAXII, 'content-type': TAXII }, payload: { objects: [object] } });
      assert.equal(r.statusCode, 202, r.body);
    }
    await relay(store, 'relay', RELAY, HIGH_VALUE, [memberPosted, homeWritten], 'verified', RELAY);
    await relay(store, 'relay', RELAY, HIGH_VALUE, [
      ipIndicator(73, '192.0.2.173', { created_by_ref: MEMBER, modified: newer, name: 'Planted over the re-signed POST' }),
      ipIndicator(74, '192.0.2.174', { modified: newer, name: 'Planted over the re-signed home original' }),
    ], 'verified', RELAY);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  const alertsOn = async (ip: string): Promise<string[]> =>
    (await postObservedAddress<{ indicator_name: string }>(node, { authorization: `Bearer ${secrets.admin}` }, ip, '2026-11-02T00:00:00.000Z')).map((alert) => alert.indicator_name);

  it('a relay that stripped the member\'s signature silences nothing with a version of its own', async () => {
    assert.deepEqual(await alertsOn('198.51.100.70'), ['Member, signature stripped by the relay']);
    assert.deepEqual(await alertsOn('192.0.2.170'), ['Planted over the stripped version']);
  });

  it('a relay that re-signed the member\'s version as derived silences nothing with a version of its own', async () => {
    assert.deepEqual(await alertsOn('198.51.100.71'), ['Member, re-signed as derived by the relay']);
  });

  it('the member\'s own newer redacted version supersedes its older one, whichever relays delivered them', async () => {
    assert.deepEqual(await alertsOn('198.51.100.72'), []);
    assert.deepEqual(await alertsOn('198.51.100.172'), ['Member redacted version 2']);
  });

  it('a relay that signed a copy of what a member or the home wrote silences neither with a version of its own', async () => {
    assert.deepEqual(await alertsOn('198.51.100.73'), ['Member, POSTed, a copy re-signed by the relay']);
    assert.deepEqual(await alertsOn('198.51.100.74'), ['Home original, a copy re-signed by the relay']);
  });

  it('`entente match` (the newest of each creator and origin) compiles them by the same rule', async () => {
    const now = new Date('2026-11-20T10:00:00Z');
    const matcher = new BulkMatcher();
    const loader = new IndicatorLoader(node.store, [HIGH_VALUE, SECRET], matcher, undefined, 'newest');
    await loader.load({ now });
    const names = (ip: string): (string | undefined)[] => matcher.match(observation([{ type: 'ipv4-addr', value: ip }], now.toISOString())).map((m) => m.name);
    assert.deepEqual(names('198.51.100.70'), ['Member, signature stripped by the relay']);
    assert.deepEqual(names('198.51.100.71'), ['Member, re-signed as derived by the relay']);
    assert.deepEqual(names('198.51.100.72'), []);
    assert.deepEqual(names('198.51.100.172'), ['Member redacted version 2']);
    assert.deepEqual(names('198.51.100.73'), ['Member, POSTed, a copy re-signed by the relay']);
    assert.deepEqual(names('198.51.100.74'), ['Home original, a copy re-signed by the relay']);
  });
});
