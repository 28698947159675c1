// Who reads what the node's matcher derives from an indicator: the home sighting, its observed-data and
// the observables holding the matched value. A home token reads everything of a collection it has a
// read grant on, so the home sighting is stored only in a collection whose readers read the indicator
// — one holding the version that matched, carrying no circle — and reaches a circle only as a copy its
// agreement allows (share-sightings.ts). Observed-data written through TAXII is matched with no more
// rights than its writer is known to have: those of a writer of its collection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { CollectionGrant } from '../../src/store/object-store.ts';
import { scoId } from '../../src/stix/ids.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const PARTNER = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = '2026-01-01T00:00:00.000Z';
const TAXII = 'application/taxii+json;version=2.1';
const RED = 'indicator--cccccccc-0000-4000-8000-000000000001';
const SHARED = 'indicator--cccccccc-0000-4000-8000-000000000002';
const RED_VALUE = '198.51.100.9';
const SHARED_VALUE = '198.51.100.10';
const homeIdentity = { type: 'identity', spec_version: '2.1', id: HOME, created: CREATED, modified: CREATED, name: 'Home', identity_class: 'organization' };

const secretOf = (name: string): string => `ent_${name.toLowerCase().padEnd(40, '0')}`;

function indicator(id: string, value: string, tlp: 'red' | 'green'): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME,
    name: `c2 ${value}`, pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
}

function observationLine(value: string): string {
  return JSON.stringify({ type: 'observed-data', first_observed: '2026-05-31T10:00:00Z', last_observed: '2026-05-31T10:00:00Z', objects: { '0': { type: 'ipv4-addr', value } } });
}

type App = Awaited<ReturnType<typeof openTestHttpApp>>;

interface Node {
  readonly store: SqliteObjectStore;
  readonly app: App;
  call(token: string, method: 'GET' | 'POST', url: string, body?: string, type?: string): Promise<Awaited<ReturnType<App['inject']>>>;
  /** The JSON of every object of every version a collection holds. */
  jsonIn(collectionId: string): Promise<string[]>;
  close(): Promise<void>;
}

/** A node with `default` (the default collection), `feeds` (the home's internal indicators) and the given tokens. */
async function startNode(tokens: Record<string, { admin?: boolean; org?: string; grants: CollectionGrant[] }>, extraCollections: readonly string[] = []): Promise<Node> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify(homeIdentity));
  await store.createOrganisation({ id: PARTNER, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED });
  for (const id of ['default', 'feeds', ...extraCollections]) await store.createCollection({ id, title: id }, new Date(CREATED));
  await store.setMeta('default_collection', 'default');
  await store.addObjects('feeds', [indicator(RED, RED_VALUE, 'red') as never]);
  for (const [name, { admin = false, org = HOME, grants }] of Object.entries(tokens)) {
    await store.createToken({ name, secretHash: hashTokenSecret(secretOf(name)), admin, organisationId: org, createdAt: CREATED, revokedAt: undefined, grants });
  }
  const app = await openTestHttpApp(store, HOME, AT);
  return {
    store,
    app,
    call: async (token, method, url, body, type = 'application/json') =>
      await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${secretOf(token)}`, accept: url.startsWith('/taxii2') ? TAXII : 'application/json', ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { payload: body }),
      }),
    jsonIn: async (collectionId) => (await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: 1000 })).entries.map((entry) => entry.json),
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

async function objectsRead(node: Node, token: string, collectionId: string): Promise<{ status: number; objects: Record<string, unknown>[] }> {
  const response = await node.call(token, 'GET', `/taxii2/api/collections/${collectionId}/objects/`);
  return { status: response.statusCode, objects: response.statusCode === 200 ? ((response.json() as { objects?: Record<string, unknown>[] }).objects ?? []) : [] };
}

describe('a home token reads a sighting only where it reads the indicator sighted', () => {
  let node: Node;
  before(async () => {
    node = await startNode({
      soc: { grants: [{ collectionId: 'feeds', read: true, write: true }, { collectionId: 'default', read: true, write: true }] },
      intern: { grants: [{ collectionId: 'default', read: true, write: false }] },
      reader: { grants: [{ collectionId: 'feeds', read: true, write: false }, { collectionId: 'default', read: true, write: true }] },
    });
  });
  after(() => node.close());

  it("stores the home sighting and its evidence beside the indicator, where the default collection's readers do not read them", async () => {
    const posted = await node.call('soc', 'POST', '/api/observations', observationLine(RED_VALUE), 'application/x-ndjson');
    assert.equal(posted.statusCode, 200, posted.body);
    const answer = posted.json<{ sightings_stored: number; alerts: { sighting_id: string | null }[] }>();
    assert.equal(answer.sightings_stored, 1);

    const intern = await objectsRead(node, 'intern', 'default');
    assert.equal(intern.status, 200);
    assert.deepEqual(intern.objects.filter((o) => o['sighting_of_ref'] === RED || JSON.stringify(o).includes(RED_VALUE)), [], 'nothing of the RED indicator in the default collection');
    assert.equal((await objectsRead(node, 'intern', 'feeds')).status, 404);

    const soc = await objectsRead(node, 'soc', 'feeds');
    const sighting = soc.objects.find((o) => o['type'] === 'sighting');
    assert.equal(sighting?.['sighting_of_ref'], RED);
    assert.equal(sighting?.['id'], answer.alerts[0]?.sighting_id, "the alert names the sighting its reader finds beside the indicator");
    assert.ok(soc.objects.some((o) => o['type'] === 'observed-data') && soc.objects.some((o) => o['type'] === 'ipv4-addr' && o['value'] === RED_VALUE), 'with its evidence');
  });

  it('gives the final count, once the window closes, to the sighting beside the indicator', async () => {
    const line = (minute: string): string => JSON.stringify({ ...JSON.parse(observationLine(RED_VALUE)), first_observed: `2026-05-31T12:${minute}:00Z`, last_observed: `2026-05-31T12:${minute}:00Z` });
    const answer = (await node.call('soc', 'POST', '/api/observations', [line('05'), line('35')].join('\n'), 'application/x-ndjson')).json<{ alerts: { sighting_id: string | null }[] }>();
    const id = answer.alerts[0]?.sighting_id;
    assert.ok(id !== undefined && id !== null);
    await node.app.alerting.matcher.stop();
    const versions = (await node.store.listEntries('feeds', { ids: [id], versions: [{ kind: 'all' }] }, { limit: 10 })).entries.map((entry) => JSON.parse(entry.json) as { count: number });
    assert.deepEqual(versions.map((version) => version.count), [1, 2]);
    assert.deepEqual((await node.jsonIn('default')).filter((json) => json.includes(id)), []);
  });

  it('stores nothing for a token that may read but not write the collection holding the indicator', async () => {
    const before = (await node.jsonIn('feeds')).length;
    const posted = await node.call('reader', 'POST', '/api/observations', JSON.stringify({ ...JSON.parse(observationLine(RED_VALUE)), first_observed: '2026-05-31T14:00:00Z', last_observed: '2026-05-31T14:00:00Z' }), 'application/x-ndjson');
    const answer = posted.json<{ sightings_stored: number; sightings_not_stored?: string; alerts: unknown[] }>();
    assert.deepEqual([answer.alerts.length, answer.sightings_stored, answer.sightings_not_stored], [1, 0, 'no-write-grant']);
    assert.equal((await node.jsonIn('feeds')).length, before);
    assert.equal((await node.jsonIn('default')).filter((json) => json.includes(RED)).length, 0);
  });
});

describe('a circle over the default collection receives only what its agreement allows', () => {
  let node: Node;
  before(async () => {
    node = await startNode({ admin: { admin: true, grants: [] }, partner: { org: PARTNER, grants: [{ collectionId: 'default', read: true, write: false }] } });
    await node.store.addObjects('default', [homeIdentity as never]);
    await node.store.createCircle(
      {
        id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'default', defaultTlp: 'green', validFrom: CREATED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: CREATED, trial: false })),
      } as Circle,
      new Date(CREATED),
    );
    const terms = openTerms({ highestTlp: 'amber', sightingSharing: 'none' });
    await node.store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: CREATED, terms: { ...terms, scope: { ...terms.scope, types: [...terms.scope.types, 'sighting', 'observed-data', 'ipv4-addr'] } } });
    await node.store.addAcceptance({ circleId: 'alpha', organisationId: PARTNER, version: 1, acceptedAt: CREATED });
    // An indicator the circle holds: its sighting stays home too (sighting_sharing: none).
    await node.store.addObjects('default', [indicator(SHARED, SHARED_VALUE, 'green') as never]);
  });
  after(() => node.close());

  it("puts no home sighting or evidence into the circle's collection", async () => {
    for (const value of [RED_VALUE, SHARED_VALUE]) {
      const posted = await node.call('admin', 'POST', '/api/observations', observationLine(value), 'application/x-ndjson');
      assert.equal(posted.statusCode, 200, posted.body);
    }
    const inDefault = await node.jsonIn('default');
    assert.deepEqual(inDefault.filter((json) => /"type":"(sighting|observed-data|ipv4-addr)"/.test(json)), [], 'nothing derived from a match is stored in the circle collection');
    const partner = await objectsRead(node, 'partner', 'default');
    assert.deepEqual(partner.objects.filter((o) => ['sighting', 'observed-data', 'ipv4-addr'].includes(String(o['type']))), []);
    // The RED indicator's sighting is still kept at home, beside it.
    assert.ok((await node.jsonIn('feeds')).some((json) => json.includes('"type":"sighting"') && json.includes(RED)));
  });
});

describe('observed-data written through TAXII is matched with its writer\'s rights', () => {
  let node: Node;
  before(async () => {
    node = await startNode(
      { writer: { grants: [{ collectionId: 'inbox', read: false, write: true }] }, feeder: { grants: [{ collectionId: 'feeds', read: true, write: true }] }, circleWriter: { grants: [{ collectionId: 'alpha', read: true, write: true }] } },
      ['alpha', 'inbox'],
    );
    await node.store.createCircle(
      {
        id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: CREATED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: CREATED, trial: false })),
      } as Circle,
      new Date(CREATED),
    );
    const terms = openTerms({ highestTlp: 'amber', sightingSharing: 'evidence' });
    await node.store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: { ...terms, scope: { ...terms.scope, types: [...terms.scope.types, 'sighting', 'observed-data'] } } });
    await node.store.addAcceptance({ circleId: 'alpha', organisationId: PARTNER, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    const shared = indicator(SHARED, SHARED_VALUE, 'green');
    await node.store.addObjects('feeds', [shared as never]);
    await node.store.addObjects('alpha', [shared as never]);
    await node.app.alerting.matcher.refresh();
  });
  after(() => node.close());

  it('stores and shares no sighting for a token that could not store one through POST /api/observations', async () => {
    const viaApi = await node.call('writer', 'POST', '/api/observations', observationLine(SHARED_VALUE), 'application/x-ndjson');
    assert.deepEqual([viaApi.json<{ sightings_stored: number }>().sightings_stored, viaApi.json<{ sightings_shared: number }>().sightings_shared], [0, 0]);

    await postObservedData('writer', 'inbox', 1);
    for (const collectionId of ['default', 'feeds', 'alpha', 'inbox']) {
      assert.deepEqual(await sightingsIn(collectionId), [], `no sighting in ${collectionId}`);
    }
  });

  it("stores the sighting beside the indicator when the observed-data is written into the indicator's collection, and shares it into no other", async () => {
    await postObservedData('feeder', 'feeds', 2);
    assert.equal((await sightingsIn('feeds')).length, 1);
    assert.deepEqual([await sightingsIn('default'), await sightingsIn('alpha')], [[], []], "alpha's collection is not the feeds writer's to publish into");
  });

  it("shares into the circle whose collection it was written into the copy its agreement allows, marked, and keeps no home sighting there", async () => {
    await postObservedData('circleWriter', 'alpha', 3);
    const [copy, ...more] = (await sightingsIn('alpha')).map((json) => JSON.parse(json) as Record<string, unknown>);
    assert.equal(more.length, 0);
    assert.deepEqual(copy?.['object_marking_refs'], [TLP2_MARKING_IDS.green], 'the copy share-sightings.ts makes, marked as the indicator');
    assert.equal((await sightingsIn('feeds')).length, 1, 'no new home sighting in feeds, which the alpha writer may not write');
  });

  const sightingsIn = async (collectionId: string): Promise<string[]> => (await node.jsonIn(collectionId)).filter((json) => json.includes('"type":"sighting"'));

  /** The observation of SHARED_VALUE as TAXII objects, posted by `token` into `collectionId`, then taken in by the matcher. */
  async function postObservedData(token: string, collectionId: string, n: number): Promise<void> {
    const ipId = scoId('ipv4-addr', { value: SHARED_VALUE });
    assert.ok(ipId.ok);
    const ip = { type: 'ipv4-addr', spec_version: '2.1', id: ipId.value, value: SHARED_VALUE };
    const observed = {
      type: 'observed-data', spec_version: '2.1', id: `observed-data--11111111-0000-4000-8000-00000000000${n}`, created: '2026-05-31T11:00:00.000Z', modified: '2026-05-31T11:00:00.000Z',
      first_observed: `2026-05-31T1${n}:00:00Z`, last_observed: `2026-05-31T1${n}:00:00Z`, number_observed: 1, object_refs: [ip.id],
    };
    const posted = await node.call(token, 'POST', `/taxii2/api/collections/${collectionId}/objects/`, JSON.stringify({ objects: [ip, observed] }), TAXII);
    assert.equal(posted.statusCode, 202, posted.body);
    await node.app.alerting.matcher.refresh();
  }
});
