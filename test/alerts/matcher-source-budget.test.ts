// A compromised partner sends many indicators, each within every pattern limit, each evaluated on every
// observation. The running node charges them to that partner, as the store's provenance records where
// each came from (federation/load-source-reputation.ts): past the partner's budget, the rest are kept
// but not matched, and the operator is told of each one (ENT_PATTERN_OVER_LIMIT, `source-budget`, the
// partner named) on the path that tells of patterns past a limit. The node's own indicator is matched
// all the same, even when the partner sends a copy of it back (provenance then names the partner, but
// the store proves it is the home's original).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkMatcher, defaultSourceMatchingBudget, everyObservationWeight } from '../../src/correlate/bulk-matcher.ts';
import { IndicatorLoader, type PatternOverLimit } from '../../src/correlate/load-indicators.ts';
import type { ArrivedObject, FederationStore } from '../../src/store/federation-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ADD_TEST, HIGH_VALUE, startTestNode, type TestNode } from '../taxii/taxii-test-kit.ts';
import { ipIndicator, standaloneMatcher } from './alert-test-kit.ts';

const at = '2026-11-20T10:00:00Z';
const memberY = 'identity--a1e00000-0000-4000-8000-0000000000b1';
type Store = TestNode['store'] & Pick<FederationStore, 'applySyncBatch' | 'addPeer'>;

/** What the partner may hold: each of its indicators is one test evaluated on every observation. */
const withinBudget = defaultSourceMatchingBudget / everyObservationWeight;
const sent = withinBudget + 40;
// `^p0`: no literal of 3 characters, so no anchor; never holds on the observation below.
const partnerIndicators = Array.from({ length: sent }, (_, i) => ipIndicator(5_000 + i, '0.0.0.0', { pattern: `[url:value MATCHES '^p${i % 10}']` }));
// The home's own, also evaluated on every observation (no literal of 3 characters either).
const home = ipIndicator(4_999, '0.0.0.0', { name: 'home', pattern: "[url:value MATCHES '^h[t]{2}p[:]//[h]o[m]e']" });

async function arrive(store: Store, collectionId: string, objects: readonly StixObject[], verification: ArrivedObject['verification']): Promise<void> {
  const accepted: ArrivedObject[] = objects.map((object) => ({ object, signer: verification === 'verified' ? memberY : undefined, keyId: undefined, verification, hops: [memberY] }));
  await store.applySyncBatch({ collectionId, peer: 'member-y', circleId: 'circle', source: 'pull', contributorOrganisationId: memberY, accepted, quarantined: [], receivedAt: '2026-11-19T10:00:00Z' });
}

describe("the running matcher and a partner's many costly indicators", () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ empty: true });
    const store = node.store as Store;
    await store.addPeer({
      name: 'member-y', url: 'https://y.example/taxii2/', apiRootUrl: 'https://y.example/api/', token: 'test', circleId: 'circle', localCollectionId: HIGH_VALUE,
      remoteCollectionId: 'circle', organisationId: memberY, kind: 'entente', push: false, intervalSeconds: 300, silentAfter: 3, createdAt: '2026-11-19T10:00:00Z',
    });
    await arrive(store, ADD_TEST, partnerIndicators, 'verified');
    await store.addObjects(HIGH_VALUE, [home]);
    // The partner relays the home's indicator back into its collection, after its own: the store records
    // that arrival for the version, and provenance then names the partner as its source, in both
    // collections. Charged to the partner, it would be past its budget, and not matched.
    await arrive(store, ADD_TEST, [home], 'unverified');
  });
  after(() => node.close());

  it("compiles the partner's up to its budget, tells of each one left out, and still matches the home's indicator", async () => {
    const told: PatternOverLimit[] = [];
    const matcher = standaloneMatcher(node, at, { onPatternOverLimit: (entries) => told.push(...entries) });
    await matcher.refresh();
    assert.equal(matcher.indicators, withinBudget + 1);
    assert.equal(told.length, sent - withinBudget);
    assert.ok(told.every((entry) => entry.limit === 'source-budget' && entry.allowed === defaultSourceMatchingBudget));
    assert.deepEqual(
      told.map((entry) => entry.indicatorId).sort(),
      partnerIndicators.slice(withinBudget).map((indicator) => indicator.id).sort(),
    );
    assert.match(told[0]?.message ?? '', new RegExp(`^ENT_PATTERN_OVER_LIMIT: indicator--\\S+ is not matched: source-budget: .*${memberY}`));

    const line = JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'url', value: 'http://home.test/42' } } });
    const outcome = await matcher.matchLines(line, 'test');
    assert.deepEqual(outcome.alerts.map((alert) => alert.indicator_id), [home.id]);
    await matcher.stop();
  });

  it('counts them, as `entente match` prints what it left out, under `pattern over limit (source-budget)`', async () => {
    const loader = new IndicatorLoader(node.store, [ADD_TEST, HIGH_VALUE], new BulkMatcher());
    const loaded = await loader.load({ now: new Date(at) });
    assert.equal(loaded.refused.get('pattern over limit (source-budget)'), sent - withinBudget);
    assert.equal(loaded.added, withinBudget + 1);
  });
});
