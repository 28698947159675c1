/**
 * A circle's indicator must not turn the home's telemetry into evidence for its members (found by a
 * reviewer): a catch-all ([domain-name:value LIKE '%'], or != 'x', which the matcher still compiles)
 * made a sighting, with the domain as evidence, of every distinct domain the home saw, each shared into
 * the circle. Such an indicator gets no sighting shared, and any one indicator at most a quota of
 * sightings into one circle's collection: the rest stay at home, counted as withheld.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { shareSightingsBack, SightingShareQuota } from '../../src/correlate/share-sightings.ts';
import { sightingObjects } from '../../src/correlate/sighting-objects.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { Alert } from '../../src/correlate/alert-aggregator.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const VERSION = '2026-02-01T00:00:00.000Z';

/** The home and P in circle alpha, whose agreement shares sightings with evidence; alpha holds P's indicator. */
async function alphaWith(pattern: string): Promise<SqliteObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  await store.createOrganisation({ id: P, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  for (const id of ['default', 'alpha']) await store.createCollection({ id, title: id }, CREATED);
  await store.setMeta('default_collection', 'default');
  await store.createCircle({
    id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [HOME, P].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
  } as Circle, CREATED);
  const open = openTerms({ highestTlp: 'amber', sightingSharing: 'evidence' });
  await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: { ...open, scope: { ...open.scope, types: [...open.scope.types, 'sighting', 'observed-data', 'domain-name'] } } });
  await store.addAcceptance({ circleId: 'alpha', organisationId: P, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  const indicator = { type: 'indicator', spec_version: '2.1', id: IND, created: VERSION, modified: VERSION, created_by_ref: P, name: 'P', pattern, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green] };
  const outcomes = await store.addObjects('alpha', [indicator] as never, undefined, P);
  assert.deepEqual(outcomes.filter((outcome) => outcome.kind === 'rejected'), []);
  return store;
}

let minted = 0;
const uuid = (): string => `00000000-0000-4000-8000-${String(++minted).padStart(12, '0')}`;

/** The home's sighting of a match of the domain, as the matcher builds it. */
function sightingOf(domain: string): { bundle: ReturnType<typeof sightingObjects>; indicatorVersion: string } {
  const at = '2026-05-31T10:00:00.000Z';
  const alert = {
    key: domain, indicatorId: IND, variant: 0, name: undefined, confidence: 80, observable: { type: 'domain-name', path: 'domain-name:value', value: domain }, window: 0,
    firstSeen: at, lastSeen: at, count: 1, source: 'x', line: 1,
    evidence: [{ firstObserved: at, lastObserved: at, count: 1, source: 'x', line: 1, objects: { '0': { type: 'domain-name', value: domain } } }],
  } satisfies Alert;
  return { bundle: sightingObjects(alert, { homeOrganisationId: HOME, now: '2026-05-31T10:00:01.000Z', randomUuid: uuid }), indicatorVersion: VERSION };
}

async function domainsIn(store: SqliteObjectStore): Promise<string[]> {
  const entries = (await store.listEntries('alpha', { types: ['domain-name'], versions: [{ kind: 'all' }] }, { limit: 100 })).entries;
  return entries.map((entry) => (JSON.parse(entry.json) as { value: string }).value).sort();
}

const internal = ['payroll.corp.internal', 'vpn-gw-02.corp.internal', 'ceo-laptop.corp.internal', 'merger-dataroom.example'];

describe('sightings shared back: limits per indicator', () => {
  for (const pattern of ["[domain-name:value != 'x']", "[domain-name:value LIKE '%']"]) {
    it(`an indicator matching nearly everything (${pattern}) gets no sighting shared: the home's domains stay at home`, async () => {
      const store = await alphaWith(pattern);
      const outcome = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid }, internal.map(sightingOf), AT);
      assert.deepEqual(outcome.shared.flat(), []);
      assert.equal(outcome.withheld, internal.length);
      assert.deepEqual(await domainsIn(store), []);
      await store.close();
    });
  }

  it('an indicator singling out values still gets its sightings shared, with their evidence', async () => {
    const store = await alphaWith("[domain-name:value LIKE '%.corp.internal']");
    const outcome = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid }, [sightingOf('payroll.corp.internal')], AT);
    assert.deepEqual(outcome.shared.flat().map((copy) => copy.circleId), ['alpha']);
    assert.equal(outcome.withheld, 0);
    assert.deepEqual(await domainsIn(store), ['payroll.corp.internal']);
    await store.close();
  });

  it("one indicator's sightings into one circle stop at the quota; the rest are withheld, and a quota kept across calls stays spent", async () => {
    const store = await alphaWith("[domain-name:value LIKE '%.corp.internal']");
    const quota = new SightingShareQuota(2);
    const first = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid, quota }, internal.slice(0, 3).map(sightingOf), AT);
    assert.deepEqual(first.shared.map((copies) => copies.length), [1, 1, 0]);
    assert.equal(first.withheld, 1);
    const second = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid, quota }, [sightingOf('hr.corp.internal')], AT);
    assert.deepEqual(second.shared.flat(), []);
    assert.equal(second.withheld, 1);
    assert.deepEqual(await domainsIn(store), ['payroll.corp.internal', 'vpn-gw-02.corp.internal']);
    await store.close();
  });

  it('without a quota given, each call allows maxSharedSightingsPerIndicator (100)', async () => {
    assert.equal(new SightingShareQuota().perIndicator, 100);
  });
});
