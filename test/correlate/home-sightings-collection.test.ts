// The home sightings collection (bootstrap-node.ts, home-sighting-placement.ts): where the running
// node's matcher keeps the home sighting, with its evidence, of a match on an indicator that only
// circles' collections hold — everything received from partners — so that every match leaves a record
// at home. It carries no circle and has no ordinary grants: a member token without an explicit grant
// does not see it, a partner token receives nothing from it even if granted (partners receive only
// through circles), a peer push bound to it releases nothing, and no circle can be created over it.
// An analyst's token reads it once an administrator grants it explicitly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { CollectionGrant } from '../../src/store/object-store.ts';
import type { PeerRecord } from '../../src/store/federation-store.ts';
import type { TaxiiClient, TaxiiStatus } from '../../src/taxii/taxii-client.ts';
import { ensureHomeSightingsCollection, homeSightingsCollectionAlias } from '../../src/bootstrap-node.ts';
import { createCircle } from '../../src/circles/circle-operations.ts';
import { pushPeer } from '../../src/federation/push-peer.ts';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-0000000000a1';
const PARTNER = 'identity--0a0a0a0a-0000-4000-8000-0000000000b2';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = '2026-01-01T00:00:00.000Z';
const TAXII = 'application/taxii+json;version=2.1';
/** Held by the circle's collection alone: received from a partner. */
const CIRCLE_ONLY = 'indicator--dddddddd-0000-4000-8000-000000000001';
const CIRCLE_ONLY_VALUE = '198.51.100.21';
/** Held by the circle's collection and by the home's own `feeds`. */
const ALSO_AT_HOME = 'indicator--dddddddd-0000-4000-8000-000000000002';
const ALSO_AT_HOME_VALUE = '198.51.100.22';
/** Held by the circle's collection alone, marked TLP:RED. */
const CIRCLE_ONLY_RED = 'indicator--dddddddd-0000-4000-8000-000000000003';
const CIRCLE_ONLY_RED_VALUE = '198.51.100.23';
/** Unmarked, held by the collection of the circle `omega` alone, whose default TLP is RED. */
const RED_DEFAULT = 'indicator--dddddddd-0000-4000-8000-000000000004';
const RED_DEFAULT_VALUE = '198.51.100.24';
const homeIdentity = { type: 'identity', spec_version: '2.1', id: HOME, created: CREATED, modified: CREATED, name: 'Home', identity_class: 'organization' };

const secretOf = (name: string): string => `ent_${name.toLowerCase().padEnd(40, '0')}`;

function indicator(id: string, value: string): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: PARTNER,
    name: `c2 ${value}`, pattern: `[ipv4-addr:value = '${value}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.amber],
  };
}

function observationLine(value: string, hour: number): string {
  const at = `2026-05-31T${String(hour).padStart(2, '0')}:00:00Z`;
  return JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value } } });
}

type App = Awaited<ReturnType<typeof openTestHttpApp>>;
type Response = Awaited<ReturnType<App['inject']>>;

describe('the home sightings collection', () => {
  let store: SqliteObjectStore;
  let app: App;
  let homeSightings: string;
  const call = async (token: string, method: 'GET' | 'POST', url: string, body?: string, type = 'application/json'): Promise<Response> =>
    await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${secretOf(token)}`, accept: url.startsWith('/taxii2') ? TAXII : 'application/json', ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined ? {} : { payload: body }),
    });
  const jsonIn = async (collectionId: string): Promise<string[]> =>
    (await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: 1000 })).entries.map((entry) => entry.json);
  const typesIn = async (collectionId: string): Promise<string[]> => (await jsonIn(collectionId)).map((json) => (JSON.parse(json) as { type: string }).type).sort();
  const post = async (token: string, value: string, hour: number): Promise<{ sightings_stored: number; sightings_not_stored?: string; alerts: { sighting_id: string | null }[] }> => {
    const posted = await call(token, 'POST', '/api/observations', observationLine(value, hour), 'application/x-ndjson');
    assert.equal(posted.statusCode, 200, posted.body);
    return posted.json();
  };

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    await store.setMeta('home_organisation', JSON.stringify(homeIdentity));
    await store.createOrganisation({ id: PARTNER, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED });
    for (const id of ['default', 'feeds', 'alpha', 'omega']) await store.createCollection({ id, title: id }, new Date(CREATED));
    await store.setMeta('default_collection', 'default');
    // As at every start of a node (ensureNodeInitialised).
    homeSightings = (await ensureHomeSightingsCollection(store, { orgName: 'Home', now: new Date(CREATED), randomUuid: randomUUID })).id;
    await store.createCircle(
      {
        id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: CREATED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: CREATED, trial: false })),
      } as Circle,
      new Date(CREATED),
    );
    await store.createCircle(
      {
        id: 'omega', name: 'omega', kind: 'formal', visibility: 'open', collectionId: 'omega', defaultTlp: 'red', validFrom: CREATED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [{ organisationId: HOME, role: 'coordinator', joinedAt: CREATED, trial: false }],
      } as Circle,
      new Date(CREATED),
    );
    await store.addObjects('omega', [indicator(RED_DEFAULT, RED_DEFAULT_VALUE) as never]);
    // The circle takes no sightings back: what is recorded at home does not depend on the agreement.
    const terms = openTerms({ highestTlp: 'amber', sightingSharing: 'none' });
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: { ...terms, scope: { ...terms.scope, types: [...terms.scope.types, 'sighting', 'observed-data', 'ipv4-addr'] } } });
    await store.addAcceptance({ circleId: 'alpha', organisationId: PARTNER, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.addObjects('alpha', [
      indicator(CIRCLE_ONLY, CIRCLE_ONLY_VALUE) as never,
      indicator(ALSO_AT_HOME, ALSO_AT_HOME_VALUE) as never,
      { ...indicator(CIRCLE_ONLY_RED, CIRCLE_ONLY_RED_VALUE), object_marking_refs: [TLP2_MARKING_IDS.red] } as never,
    ]);
    await store.addObjects('feeds', [indicator(ALSO_AT_HOME, ALSO_AT_HOME_VALUE) as never]);
    const tokens: Record<string, { admin?: boolean; org?: string; grants: CollectionGrant[] }> = {
      admin: { admin: true, grants: [] },
      // Reads and writes every ordinary collection of the node, but was given no grant on the home sightings.
      member: { grants: ['default', 'feeds', 'alpha'].map((collectionId) => ({ collectionId, read: true, write: true })) },
      // Granted the home sightings collection and the circle's collection: reads the sightings of the circle's indicators.
      analyst: { grants: [{ collectionId: homeSightings, read: true, write: false }, { collectionId: 'alpha', read: true, write: false }] },
      // Granted the home sightings collection alone: reads none of the indicators sighted there.
      sightingsOnly: { grants: [{ collectionId: homeSightings, read: true, write: false }] },
      // Granted the home sightings collection and a collection it may write, where it can put an
      // indicator under the id of a circle's indicator it may not read.
      forger: { grants: [{ collectionId: homeSightings, read: true, write: false }, { collectionId: 'default', read: true, write: true }] },
      circleReader: { grants: [{ collectionId: 'alpha', read: true, write: false }] },
      // Granted read and write on the home sightings collection by an administrator, and read on the circle's collection.
      sightingsWriter: { grants: [{ collectionId: homeSightings, read: true, write: true }, { collectionId: 'alpha', read: true, write: false }] },
      // A partner token, even one an administrator granted the home sightings collection by mistake.
      partner: { org: PARTNER, grants: [{ collectionId: 'alpha', read: true, write: false }, { collectionId: homeSightings, read: true, write: false }] },
    };
    for (const [name, { admin = false, org = HOME, grants }] of Object.entries(tokens)) {
      await store.createToken({ name, secretHash: hashTokenSecret(secretOf(name)), admin, organisationId: org, createdAt: CREATED, revokedAt: undefined, grants });
    }
    app = await openTestHttpApp(store, HOME, AT);
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it(`is made once, answers to the alias "${homeSightingsCollectionAlias}" and carries no circle`, async () => {
    const again = await ensureHomeSightingsCollection(store, { orgName: 'Home', now: AT, randomUuid: randomUUID });
    assert.equal(again.id, homeSightings);
    assert.equal(again.alias, homeSightingsCollectionAlias);
    assert.equal(await store.getCircleByCollection(homeSightings), undefined);
  });

  it("receives the home sighting and its evidence of a match on an indicator held by a circle's collection alone", async () => {
    const answer = await post('admin', CIRCLE_ONLY_VALUE, 10);
    assert.equal(answer.sightings_stored, 1);
    const sightings = (await jsonIn(homeSightings)).map((json) => JSON.parse(json) as Record<string, unknown>).filter((o) => o['type'] === 'sighting');
    assert.deepEqual(sightings.map((s) => s['sighting_of_ref']), [CIRCLE_ONLY]);
    assert.equal(sightings[0]?.['id'], answer.alerts[0]?.sighting_id, 'the alert names the sighting recorded at home');
    const types = await typesIn(homeSightings);
    for (const type of ['sighting', 'observed-data', 'ipv4-addr']) assert.ok(types.includes(type), `its evidence: ${type} (${types.join(', ')})`);
    assert.ok((await jsonIn(homeSightings)).some((json) => json.includes(CIRCLE_ONLY_VALUE)), 'with the observable holding the matched value');
    for (const collectionId of ['default', 'feeds', 'alpha']) {
      assert.deepEqual((await jsonIn(collectionId)).filter((json) => /"type":"(sighting|observed-data|ipv4-addr)"/.test(json)), [], `nothing derived from the match in ${collectionId}`);
    }
  });

  // A sighting names its indicator and its observed-data holds the indicator's value: marked below the
  // indicator, it could go (an export, a copy) where the indicator may not.
  it('marks the home sighting of a TLP:RED indicator, and its observed-data, TLP:RED', async () => {
    const answer = await post('admin', CIRCLE_ONLY_RED_VALUE, 9);
    assert.equal(answer.sightings_stored, 1);
    const stored = (await jsonIn(homeSightings)).map((json) => JSON.parse(json) as Record<string, unknown>);
    const sighting = stored.find((object) => object['type'] === 'sighting' && object['sighting_of_ref'] === CIRCLE_ONLY_RED);
    assert.ok(sighting !== undefined);
    assert.deepEqual(sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    const observedData = stored.find((object) => object['id'] === (sighting['observed_data_refs'] as string[])[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    // The AMBER indicator's sighting stays at the home's own floor.
    const amber = stored.find((object) => object['type'] === 'sighting' && object['sighting_of_ref'] === CIRCLE_ONLY);
    assert.deepEqual(amber?.['object_marking_refs'], [TLP2_MARKING_IDS['amber+strict']]);
  });

  // Unmarked, an indicator stands at its circle's default TLP: its home sighting is never below that.
  it("marks the home sighting of an unmarked indicator of a circle whose default TLP is RED, and its observed-data, TLP:RED", async () => {
    const answer = await post('admin', RED_DEFAULT_VALUE, 10);
    assert.equal(answer.sightings_stored, 1);
    const stored = (await jsonIn(homeSightings)).map((json) => JSON.parse(json) as Record<string, unknown>);
    const sighting = stored.find((object) => object['type'] === 'sighting' && object['sighting_of_ref'] === RED_DEFAULT);
    assert.ok(sighting !== undefined);
    assert.deepEqual(sighting['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    const observedData = stored.find((object) => object['id'] === (sighting['observed_data_refs'] as string[])[0]);
    assert.deepEqual(observedData?.['object_marking_refs'], [TLP2_MARKING_IDS.red]);
    // Gone again: the readers below are granted alpha, not omega, and read every piece of evidence held.
    for (const object of stored.filter((o) => o === sighting || o === observedData || (o['type'] === 'ipv4-addr' && o['value'] === RED_DEFAULT_VALUE))) {
      await store.deleteObject(homeSightings, String(object['id']), { versions: [{ kind: 'all' }] });
    }
  });

  it('gives the final count, once the window closes, to the sighting in the home sightings collection', async () => {
    const twice = [observationLine(CIRCLE_ONLY_VALUE, 13), JSON.stringify({ ...JSON.parse(observationLine(CIRCLE_ONLY_VALUE, 13)), first_observed: '2026-05-31T13:30:00Z', last_observed: '2026-05-31T13:30:00Z' })];
    const posted = await call('admin', 'POST', '/api/observations', twice.join('\n'), 'application/x-ndjson');
    const id = posted.json<{ alerts: { sighting_id: string | null }[] }>().alerts[0]?.sighting_id;
    assert.ok(typeof id === 'string');
    await app.alerting.matcher.refresh();
    await app.alerting.matcher.stop();
    const versions = (await store.listEntries(homeSightings, { ids: [id], versions: [{ kind: 'all' }] }, { limit: 10 })).entries.map((entry) => (JSON.parse(entry.json) as { count: number }).count);
    assert.deepEqual(versions, [1, 2]);
  });

  it('receives nothing when the indicator has a home place: the sighting goes beside it there', async () => {
    const before = (await jsonIn(homeSightings)).length;
    const answer = await post('admin', ALSO_AT_HOME_VALUE, 11);
    assert.equal(answer.sightings_stored, 1);
    assert.ok((await jsonIn('feeds')).some((json) => json.includes('"type":"sighting"') && json.includes(ALSO_AT_HOME)));
    assert.equal((await jsonIn(homeSightings)).length, before);
  });

  it("records a token's match only when it may write the circle's collection holding the indicator, as it could store there", async () => {
    const before = (await jsonIn(homeSightings)).length;
    const reader = await post('circleReader', CIRCLE_ONLY_VALUE, 15);
    assert.deepEqual([reader.alerts.length, reader.sightings_stored, reader.sightings_not_stored], [1, 0, 'no-write-grant']);
    assert.equal((await jsonIn(homeSightings)).length, before, 'a token that may only read the circle writes nothing at home');
    const member = await post('member', CIRCLE_ONLY_VALUE, 16);
    assert.equal(member.sightings_stored, 1);
    assert.ok((await jsonIn(homeSightings)).length > before);
  });

  describe('is read by no token that was not granted it', () => {
    const listed = async (token: string): Promise<string[]> => {
      const response = await call(token, 'GET', '/taxii2/api/collections/');
      assert.equal(response.statusCode, 200, response.body);
      return (response.json<{ collections?: { id: string }[] }>().collections ?? []).map((c) => c.id);
    };
    const sightingId = async (): Promise<string> => {
      const found = (await jsonIn(homeSightings)).map((json) => JSON.parse(json) as { type: string; id: string }).find((o) => o.type === 'sighting');
      assert.ok(found !== undefined);
      return found.id;
    };

    it('a member token reading every other collection: not listed, and every TAXII path answers 404', async () => {
      assert.ok(!(await listed('member')).includes(homeSightings));
      const id = await sightingId();
      for (const path of ['', 'objects/', 'manifest/', `objects/${id}/`, `objects/${id}/versions/`]) {
        const response = await call('member', 'GET', `/taxii2/api/collections/${homeSightings}/${path}`);
        assert.equal(response.statusCode, 404, `${path}: ${response.body}`);
        assert.ok(!response.body.includes(CIRCLE_ONLY_VALUE) && !response.body.includes('sighting_of_ref'), path);
      }
    });

    it('a partner token, even granted it: nothing on any TAXII path (partners receive only through circles)', async () => {
      const id = await sightingId();
      for (const token of ['partner', 'circleReader']) {
        for (const path of ['objects/', 'manifest/', `objects/${id}/`, `objects/${id}/versions/`]) {
          const response = await call(token, 'GET', `/taxii2/api/collections/${homeSightings}/${path}`);
          // A 404 echoes the id asked for; anything else must name nothing the collection holds.
          const named = response.statusCode === 404 ? false : response.body.includes(id);
          assert.ok(!named && !response.body.includes(CIRCLE_ONLY_VALUE) && !response.body.includes('sighting_of_ref') && !response.body.includes('observed-data'), `${token} ${path}: ${response.statusCode} ${response.body}`);
        }
      }
      // And nothing of it in the circle's collection the partner does read.
      const circle = await call('partner', 'GET', '/taxii2/api/collections/alpha/objects/');
      assert.ok(!circle.body.includes(id) && !circle.body.includes('"observed-data"'), circle.body);
    });

    it("an analyst token granted read on it explicitly, and on the circle's collection, reads the sightings and their evidence", async () => {
      assert.ok((await listed('analyst')).includes(homeSightings));
      const response = await call('analyst', 'GET', `/taxii2/api/collections/${homeSightings}/objects/`);
      assert.equal(response.statusCode, 200, response.body);
      const objects = response.json<{ objects?: { type: string; id: string }[] }>().objects ?? [];
      assert.ok(objects.some((o) => o.type === 'sighting') && objects.some((o) => o.type === 'observed-data'), response.body);
      assert.ok(response.body.includes(CIRCLE_ONLY_VALUE), 'with the observable holding the matched value');
      const single = await call('analyst', 'GET', `/taxii2/api/collections/${homeSightings}/objects/${await sightingId()}/`);
      assert.equal(single.statusCode, 200, single.body);
      // Each piece of evidence read alone too: decided by the sighting written with it, not by the page around it.
      const evidence = (await jsonIn(homeSightings)).map((json) => JSON.parse(json) as { type: string; id: string }).filter((o) => o.type === 'observed-data' || o.type === 'ipv4-addr');
      assert.ok(evidence.length >= 2);
      for (const { id } of evidence) {
        const alone = await call('analyst', 'GET', `/taxii2/api/collections/${homeSightings}/objects/${id}/`);
        assert.equal(alone.statusCode, 200, `${id}: ${alone.body}`);
      }
    });

    // A sighting names its indicator and its evidence holds the value matched: a grant on the home
    // sightings alone must not give a reader what the circle's collection it may not read holds.
    it("a token granted it alone learns no indicator it may not read, no value matched, nothing the home saw of them", async () => {
      const id = await sightingId();
      for (const path of ['objects/', 'manifest/', `objects/${id}/`, `objects/${id}/versions/`]) {
        const response = await call('sightingsOnly', 'GET', `/taxii2/api/collections/${homeSightings}/${path}`);
        const named = response.statusCode === 404 ? false : response.body.includes(id);
        assert.ok(
          !named && !response.body.includes(CIRCLE_ONLY) && !response.body.includes(CIRCLE_ONLY_VALUE) && !response.body.includes('"observed-data"') && !response.body.includes('ipv4-addr'),
          `${path}: ${response.statusCode} ${response.body}`,
        );
      }
    });

    it("a token that writes an indicator under the circle's indicator's id, in a collection it reads, unlocks none of its sightings", async () => {
      const forged = { ...indicator(CIRCLE_ONLY, '192.0.2.99'), modified: '2026-03-01T00:00:00.000Z', created_by_ref: HOME };
      const posted = await call('forger', 'POST', '/taxii2/api/collections/default/objects/', JSON.stringify({ objects: [forged] }), TAXII);
      assert.equal(posted.statusCode, 202, posted.body);
      const response = await call('forger', 'GET', `/taxii2/api/collections/${homeSightings}/objects/`);
      assert.ok(!response.body.includes('"sighting"') && !response.body.includes(CIRCLE_ONLY_VALUE), `${response.statusCode} ${response.body}`);
      await store.deleteObject('default', CIRCLE_ONLY, { versions: [{ kind: 'all' }] });
    });

    // Only the node writes its record of what it saw: a sighting a token stored there would read, to
    // every analyst granted it, as the home's own (created_by_ref, where_sighted_refs: anyone can write
    // those), and it is by the sighting written with it that evidence is released.
    it('takes no TAXII write, whatever the token (a write grant on it, an administrator): refused with ENT_COLLECTION_NOT_WRITABLE and nothing stored', async () => {
      const forged = 'sighting--dddddddd-0000-4000-8000-0000000000f1';
      const observed = 'observed-data--dddddddd-0000-4000-8000-0000000000f1';
      const objects = [
        { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--dddddddd-0000-4000-8000-0000000000f1', value: '203.0.113.250' },
        {
          type: 'observed-data', spec_version: '2.1', id: observed, created: CREATED, modified: CREATED, created_by_ref: HOME, first_observed: CREATED, last_observed: CREATED,
          number_observed: 1, object_refs: ['ipv4-addr--dddddddd-0000-4000-8000-0000000000f1'], x_entente_sighting_evidence: true,
        },
        {
          type: 'sighting', spec_version: '2.1', id: forged, created: CREATED, modified: CREATED, created_by_ref: HOME, sighting_of_ref: CIRCLE_ONLY,
          observed_data_refs: [observed], where_sighted_refs: [HOME], count: 1, first_seen: CREATED, last_seen: CREATED,
        },
      ];
      const before = (await jsonIn(homeSightings)).length;
      for (const token of ['sightingsWriter', 'admin']) {
        const posted = await call(token, 'POST', `/taxii2/api/collections/${homeSightings}/objects/`, JSON.stringify({ objects }), TAXII);
        assert.equal(posted.statusCode, 403, `${token}: ${posted.body}`);
        assert.equal(posted.json<{ error_code?: string }>().error_code, 'ENT_COLLECTION_NOT_WRITABLE');
        assert.match(posted.body, /home sightings collection/);
      }
      assert.equal((await jsonIn(homeSightings)).length, before, 'nothing stored');
      const read = await call('analyst', 'GET', `/taxii2/api/collections/${homeSightings}/objects/${forged}/`);
      assert.equal(read.statusCode, 404, read.body);
      // TAXII clients learn it before they try: the collection resource says it takes no writes.
      const resource = await call('sightingsWriter', 'GET', `/taxii2/api/collections/${homeSightings}/`);
      assert.equal(resource.statusCode, 200, resource.body);
      assert.deepEqual([resource.json<{ can_read: boolean }>().can_read, resource.json<{ can_write: boolean }>().can_write], [true, false]);
      // Its other collections are written as before.
      const elsewhere = await call('member', 'POST', '/taxii2/api/collections/feeds/objects/', JSON.stringify({ objects: [objects[0]] }), TAXII);
      assert.equal(elsewhere.statusCode, 202, elsewhere.body);
    });

    it('covers the sightings an earlier version stored unmarked: decided on every read, with no migration', async () => {
      const id = 'sighting--dddddddd-0000-4000-8000-0000000000ee';
      const unmarked = {
        type: 'sighting', spec_version: '2.1', id, created: CREATED, modified: CREATED, created_by_ref: HOME,
        sighting_of_ref: CIRCLE_ONLY, where_sighted_refs: [HOME], count: 3, first_seen: CREATED, last_seen: CREATED,
      };
      await store.addObjects(homeSightings, [unmarked as never]);
      const hidden = await call('sightingsOnly', 'GET', `/taxii2/api/collections/${homeSightings}/objects/${id}/`);
      assert.equal(hidden.statusCode, 404, hidden.body);
      assert.ok(!hidden.body.includes(CIRCLE_ONLY), hidden.body);
      const read = await call('analyst', 'GET', `/taxii2/api/collections/${homeSightings}/objects/${id}/`);
      assert.equal(read.statusCode, 200, read.body);
    });

    it('a push to a peer bound to it releases nothing: it carries no circle', async () => {
      const peer: PeerRecord = {
        name: 'misbound', url: 'u', apiRootUrl: 'u', token: 't', circleId: 'alpha', localCollectionId: homeSightings, remoteCollectionId: 'r',
        organisationId: PARTNER, kind: 'entente', push: true, intervalSeconds: 300, silentAfter: 3, createdAt: CREATED,
      };
      await store.addPeer(peer);
      const posted: string[] = [];
      const client = {
        apiRoot: async () => ({ maxContentLength: 1 << 20 }),
        postObjects: async (_collection: string, objects: readonly { id: string }[]): Promise<TaxiiStatus> => {
          posted.push(...objects.map((object) => object.id));
          return { id: 's', status: 'complete', successCount: objects.length, failures: [] } as unknown as TaxiiStatus;
        },
      } as unknown as TaxiiClient;
      const counts = await pushPeer({ store, clock: () => AT, homeOrganisationId: HOME } as never, peer, client);
      assert.deepEqual(posted, []);
      assert.match(counts.stopped ?? '', /carries none/);
    });
  });

  it('cannot carry a circle, by id or by its alias', async () => {
    const deps = { store, clock: () => AT, homeOrganisationId: HOME };
    for (const collectionId of [homeSightings, homeSightingsCollectionAlias]) {
      await assert.rejects(
        createCircle(deps, { id: `over-${collectionId.slice(0, 8)}`, name: 'Over', kind: 'tacit', visibility: 'hidden', default_tlp: 'green', valid_until: '2026-12-31T00:00:00Z', collection_id: collectionId }),
        (error: unknown) => isEntenteError(error) && error.code === 'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS' && /home sightings collection/.test(error.message),
      );
    }
    assert.equal(await store.getCircleByCollection(homeSightings), undefined);
  });
});

describe('the home sightings collection, empty', () => {
  it('is refused as a circle\'s collection before it holds anything', async () => {
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    try {
      const { id } = await ensureHomeSightingsCollection(store, { orgName: 'Home', now: AT, randomUuid: randomUUID });
      await assert.rejects(
        createCircle({ store, clock: () => AT, homeOrganisationId: HOME }, { id: 'c', name: 'C', kind: 'tacit', visibility: 'hidden', default_tlp: 'green', valid_until: '2026-12-31T00:00:00Z', collection_id: id }),
        (error: unknown) => isEntenteError(error) && error.code === 'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS',
      );
    } finally {
      await store.close();
    }
  });
});
