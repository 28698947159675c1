// An alert's confidence, as a non-administrator token is shown it, counts the reputation of the
// indicator's source and its corroboration by other members from the collections that token may read
// only. Both are computed from what members published and reported (federation/source-reputation.ts);
// computed over every collection, a number shown to a token of one collection told it that a
// collection it may not read holds another member's copy of the same value (the confidence rose) or a
// false-positive report about the indicator or its source (the confidence fell).
// - a copy, or a report, held where the token may not read leaves what it is shown unchanged;
// - the same held where it may read counts for it;
// - the administrator, who reads every collection, is shown the node's own assessment (all of it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { ArrivedObject, FederationStore } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ADD_TEST, SECRET, secrets, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { connectSse, ipIndicator, postObservedAddress } from './alert-test-kit.ts';

type Caller = keyof typeof secrets;
const bearer = (name: Caller): Record<string, string> => ({ authorization: `Bearer ${secrets[name]}` });

const memberX = 'identity--a1e00000-0000-4000-8000-0000000000a1';
const memberY = 'identity--a1e00000-0000-4000-8000-0000000000b1';
// Recent, so that age takes little off the confidences compared, whenever the test runs.
const yesterday = new Date(Date.now() - 86_400_000).toISOString();
const receivedAt = yesterday;
const recent = { created: yesterday, modified: yesterday, valid_from: yesterday, confidence: 60 };

// On no warninglist (a TEST-NET address would count against its source's reputation already).
const ip = '45.9.148.81';
/** Member X's indicator, in ADD_TEST (which the analyst reads). */
const indicator = ipIndicator(81, ip, { name: 'From member X', ...recent });
/** Member Y's own indicator of the same address: a corroborating copy. */
const copy = ipIndicator(82, ip, { name: 'From member Y', ...recent });
/** Member Y reports member X's indicator as a false positive. */
const falsePositive = {
  type: 'sighting',
  spec_version: '2.1',
  id: 'sighting--a1e00000-0000-4000-8000-000000000081',
  created: yesterday,
  modified: yesterday,
  sighting_of_ref: indicator.id,
  x_entente_false_positive: true,
} as unknown as StixObject;

type Store = TestNode['store'] & Pick<FederationStore, 'applySyncBatch' | 'addPeer'>;

async function arrive(store: Store, collectionId: string, signer: string, objects: readonly StixObject[]): Promise<void> {
  const accepted: ArrivedObject[] = objects.map((object) => ({ object, signer, keyId: 'AbCdEfGhIjKlMnOpQrStUv', verification: 'verified', hops: [signer] }));
  await store.applySyncBatch({ collectionId, peer: 'member-y', circleId: 'circle', source: 'pull', contributorOrganisationId: memberY, accepted, quarantined: [], receivedAt });
}

interface Arrival {
  readonly in: string;
  readonly objects: readonly StixObject[];
  /** Default: member Y. */
  readonly signer?: string;
}

/** A federated node holding member X's indicator in ADD_TEST, and what else arrived. */
async function nodeWith(...arrivals: readonly Arrival[]): Promise<TestNode> {
  const node = await startTestNode({ empty: true, tokenCacheTtlMs: 0 });
  const store = node.store as Store;
  await store.setMeta('default_collection', ADD_TEST);
  await store.addPeer({
    name: 'member-y', url: 'https://y.example/taxii2/', apiRootUrl: 'https://y.example/api/', token: 'test', circleId: 'circle', localCollectionId: ADD_TEST,
    remoteCollectionId: 'circle', organisationId: memberY, kind: 'entente', push: false, intervalSeconds: 300, silentAfter: 3, createdAt: receivedAt,
  });
  await arrive(store, ADD_TEST, memberX, [indicator]);
  for (const arrival of arrivals) await arrive(store, arrival.in, arrival.signer ?? memberY, arrival.objects);
  await node.app.alerting.matcher.refresh();
  return node;
}

interface Shown {
  readonly indicator_id: string;
  readonly confidence: number;
  readonly severity: string;
}

async function post(node: TestNode, caller: Caller): Promise<Shown> {
  const alerts = await postObservedAddress<Shown>(node, bearer(caller), ip, new Date().toISOString());
  const shown = alerts.find((alert) => alert.indicator_id === indicator.id);
  assert.ok(shown !== undefined, `an alert on ${indicator.id}: ${JSON.stringify(alerts)}`);
  return shown;
}

describe('an alert’s confidence counts reputation and corroboration from what its reader may read', () => {
  /** What the analyst and the administrator are shown where no other member published or reported anything. */
  let alone: number;
  before(async () => {
    const node = await nodeWith();
    try {
      alone = (await post(node, 'analyst')).confidence;
      assert.equal((await post(node, 'admin')).confidence, alone, 'both read all there is');
    } finally {
      await node.close();
    }
  });

  describe('another member’s copy of the same value held only in a collection the analyst may not read', () => {
    let node: TestNode;
    before(async () => (node = await nodeWith({ in: SECRET, objects: [copy] })));
    after(() => node.close());

    it('leaves the analyst’s confidence as if there were none', async () => {
      assert.equal((await post(node, 'analyst')).confidence, alone);
    });

    it('raises the administrator’s', async () => {
      const shown = await post(node, 'admin');
      assert.ok(shown.confidence > alone, `${shown.confidence} > ${alone}`);
    });

    it('shows each stream the confidence of what its token reads, for the same alert', async () => {
      await node.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
      const admin = await connectSse(`${base}/api/alerts/stream`, bearer('admin'));
      const analyst = await connectSse(`${base}/api/alerts/stream`, bearer('analyst'));
      try {
        const at = new Date(Date.now() + 3_600_000).toISOString();
        const line = JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: ip } } });
        const response = await node.app.inject({ method: 'POST', url: '/api/observations', headers: { ...bearer('admin'), 'content-type': 'application/x-ndjson' }, payload: line });
        assert.equal(response.statusCode, 200, response.body);
        const isAlert = (e: { event: string }): boolean => e.event === 'alert';
        const [byAdmin, byAnalyst] = await Promise.all([admin.waitFor(isAlert), analyst.waitFor(isAlert)]);
        assert.equal(byAdmin.id, byAnalyst.id, 'one event');
        assert.equal((JSON.parse(byAnalyst.data) as Shown).confidence, alone);
        assert.ok((JSON.parse(byAdmin.data) as Shown).confidence > alone);
      } finally {
        admin.close();
        analyst.close();
      }
    });
  });

  describe('another member’s copy held in a collection the analyst may read', () => {
    let node: TestNode;
    before(async () => (node = await nodeWith({ in: ADD_TEST, objects: [copy] })));
    after(() => node.close());

    it('raises the analyst’s confidence as the administrator’s', async () => {
      const byAnalyst = await post(node, 'analyst');
      assert.ok(byAnalyst.confidence > alone, `${byAnalyst.confidence} > ${alone}`);
      assert.equal(byAnalyst.confidence, (await post(node, 'admin')).confidence);
    });
  });

  describe('another member’s false-positive report held only in a collection the analyst may not read', () => {
    let node: TestNode;
    before(async () => (node = await nodeWith({ in: SECRET, objects: [falsePositive] })));
    after(() => node.close());

    it('leaves the analyst’s confidence as if there were none (neither the report nor the reputation it costs member X)', async () => {
      assert.equal((await post(node, 'analyst')).confidence, alone);
    });

    it('lowers the administrator’s', async () => {
      const shown = await post(node, 'admin');
      assert.ok(shown.confidence < alone, `${shown.confidence} < ${alone}`);
    });
  });

  describe('a false-positive report about another of member X’s indicators, held only where the analyst may not read', () => {
    let node: TestNode;
    // Member X's other indicator and the report against it are both in SECRET: only X's reputation carries them.
    const another = ipIndicator(83, '45.9.148.83', { name: 'Also from member X', ...recent });
    const againstAnother = { ...falsePositive, id: 'sighting--a1e00000-0000-4000-8000-000000000083', sighting_of_ref: another.id } as unknown as StixObject;
    before(async () => (node = await nodeWith({ in: SECRET, objects: [another], signer: memberX }, { in: SECRET, objects: [againstAnother] })));
    after(() => node.close());

    it('leaves the analyst’s confidence as if there were none', async () => {
      assert.equal((await post(node, 'analyst')).confidence, alone);
    });

    it('lowers the administrator’s', async () => {
      const shown = await post(node, 'admin');
      assert.ok(shown.confidence < alone, `${shown.confidence} < ${alone}`);
    });
  });
});
