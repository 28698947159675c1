/**
 * Sightings shared back carry the markings of the indicator they reveal (docs/federation.md,
 * "Sightings shared back"): the home's TLP:AMBER indicator in circle alpha is narrowed to member P by
 * a recipients marking. When it fires, every object the share puts into alpha — the sighting, its
 * observed-data and each observable in it — is marked AMBER and with the recipients marking, so the
 * release gate gives P the evidence and Q (a member the marking excludes) none of it: not the
 * indicator's value, not the home's internal address. Before, only the sighting was marked, and the
 * evidence went to Q at the circle's GREEN default.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { shareSightingsBack } from '../../src/correlate/share-sightings.ts';
import { sightingObjects } from '../../src/correlate/sighting-objects.ts';
import { openReleaseGate } from '../../src/release/open-release-gate.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { ENTENTE_MARKING_EXTENSION_ID } from '../../src/policy/classify-marking.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { Recipient } from '../../src/policy/recipient.ts';
import type { Alert } from '../../src/correlate/alert-aggregator.ts';
import type { StoredEntry } from '../../src/store/object-store.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const Q = 'identity--0a0a0a0a-0000-4000-8000-0000000000cc';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const RECIPIENTS = 'marking-definition--bbbbbbbb-0000-4000-8000-000000000001';
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const SECRET_IP = '203.0.113.77';
const INTERNAL_IP = '10.1.2.3';
const ADMIN = 'ent_home-admin-0000000000000000000000000000000';

/** Alpha (GREEN by default, sightings shared with evidence) with the home, P and Q; the indicator for P only. */
async function alliance(): Promise<SqliteObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
  for (const org of [P, Q]) await store.createOrganisation({ id: org, name: org, kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
  await store.createCollection({ id: 'default', title: 'home' }, CREATED);
  await store.setMeta('default_collection', 'default');
  await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
  const circle = {
    id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
    members: [HOME, P, Q].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
  } as Circle;
  await store.createCircle(circle, CREATED);
  const open = openTerms({ highestTlp: 'amber', sightingSharing: 'evidence' });
  const terms = { ...open, scope: { ...open.scope, types: [...open.scope.types, 'sighting', 'observed-data'] } };
  await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms });
  for (const org of [P, Q]) await store.addAcceptance({ circleId: 'alpha', organisationId: org, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
  const added = await store.addObjects('alpha', [
    { type: 'marking-definition', spec_version: '2.1', id: RECIPIENTS, created: '2026-01-01T00:00:00.000Z', name: 'recipients: P', extensions: { [ENTENTE_MARKING_EXTENSION_ID]: { extension_type: 'property-extension', marking: 'recipients', organisation_refs: [P] } } },
    { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'for P only', pattern: `[ipv4-addr:value = '${SECRET_IP}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber, RECIPIENTS] },
  ]);
  assert.deepEqual(added.filter((outcome) => outcome.kind === 'rejected'), []);
  return store;
}

const reader = (org: string): Recipient => ({ name: `tok-${org.slice(-2)}`, organisationId: org, admin: false, actsForHome: false, grants: [{ collectionId: 'alpha', read: true, write: false }] });

async function releasedTo(store: SqliteObjectStore, org: string): Promise<StoredEntry[]> {
  const all = (await store.listEntries('alpha', { versions: [{ kind: 'all' }] }, { limit: 100 })).entries;
  return [...(await (await openReleaseGate(store, reader(org), 'alpha', AT)).release(all)).released];
}

/** What the share put into alpha: everything but the indicator and its marking definition. */
async function sharedInto(store: SqliteObjectStore): Promise<Record<string, unknown>[]> {
  const all = (await store.listEntries('alpha', { versions: [{ kind: 'all' }] }, { limit: 100 })).entries;
  return all.filter((entry) => entry.id !== IND && entry.id !== RECIPIENTS && entry.id !== HOME).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
}

describe('the evidence of a shared sighting is marked as the indicator it reveals', () => {
  it('marks the sighting, its observed-data and every observable with the stricter TLP and the indicator\'s other markings', async () => {
    const store = await alliance();
    let n = 0;
    const uuid = (): string => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    const alert = {
      key: 'k', indicatorId: IND, variant: 0, name: 'for P only', confidence: 80, observable: { type: 'ipv4-addr', path: 'ipv4-addr:value', value: SECRET_IP }, window: 0,
      firstSeen: '2026-05-31T10:00:00.000Z', lastSeen: '2026-05-31T10:00:00.000Z', count: 1, source: 'x', line: 1,
      evidence: [{ firstObserved: '2026-05-31T10:00:00.000Z', lastObserved: '2026-05-31T10:00:00.000Z', count: 1, source: 'x', line: 1, objects: { '0': { type: 'ipv4-addr', value: INTERNAL_IP }, '1': { type: 'ipv4-addr', value: SECRET_IP } } }],
    } satisfies Alert;
    const bundle = sightingObjects(alert, { homeOrganisationId: HOME, now: '2026-05-31T10:00:01.000Z', randomUuid: uuid });
    const outcome = await shareSightingsBack({ store, homeOrganisationId: HOME, randomUuid: uuid }, [{ bundle, indicatorVersion: '2026-02-01T00:00:00.000Z' }], AT);
    assert.deepEqual(outcome.rejected, []);
    assert.equal(outcome.shared[0]?.length, 1);

    const shared = await sharedInto(store);
    assert.deepEqual(shared.map((object) => object['type']).sort(), ['ipv4-addr', 'ipv4-addr', 'observed-data', 'sighting']);
    for (const object of shared) {
      assert.deepEqual(new Set(object['object_marking_refs'] as string[]), new Set([TLP2_MARKING_IDS.amber, RECIPIENTS]), `${String(object['type'])} carries the indicator's markings`);
    }
    const forP = await releasedTo(store, P);
    assert.ok(['sighting', 'observed-data'].every((type) => forP.some((entry) => entry.type === type)), 'the named member receives the sighting with its evidence');
    assert.ok(forP.some((entry) => entry.json.includes(INTERNAL_IP)));
    const forQ = await releasedTo(store, Q);
    assert.deepEqual(forQ.filter((entry) => entry.json.includes(SECRET_IP) || entry.json.includes(INTERNAL_IP) || ['sighting', 'observed-data'].includes(entry.type)), [], 'Q receives none of it');
    await store.close();
  });

  it('end to end: what the running node shares of an observation posted to it reaches no member the markings exclude', async () => {
    const store = await alliance();
    await store.createToken({ name: 'admin', secretHash: hashTokenSecret(ADMIN), admin: true, grants: [], organisationId: HOME, createdAt: CREATED.toISOString(), revokedAt: undefined });
    const app = await openTestHttpApp(store, HOME, AT);
    try {
      const reply = await app.inject({
        method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
        payload: JSON.stringify([{ type: 'ipv4-addr', value: INTERNAL_IP }, { type: 'ipv4-addr', value: SECRET_IP }]),
      });
      assert.equal(reply.statusCode, 200, reply.body);
      assert.equal(reply.json<{ sightings_shared: number }>().sightings_shared, 1);
      const forQ = await releasedTo(store, Q);
      assert.deepEqual(forQ.filter((entry) => entry.json.includes(SECRET_IP) || entry.json.includes(INTERNAL_IP)).map((entry) => entry.type), []);
      const forP = await releasedTo(store, P);
      assert.ok(forP.some((entry) => entry.type === 'sighting') && forP.some((entry) => entry.json.includes(INTERNAL_IP)));
    } finally {
      await app.close();
      await store.close();
    }
  });
});
