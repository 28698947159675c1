/**
 * What POST /api/observations stores and shares is bounded by the caller's write grants (README,
 * "POST /api/observations"; docs/federation.md, "Sightings shared back"). The same version of the
 * home's indicator sits in its internal collection `feeds` and in circle alpha's, whose agreement
 * shares sightings with evidence. A home token that may only read `feeds` is told of the match (its
 * alert) but stores nothing: neither a sighting beside the indicator in `feeds` nor a copy, with its
 * chosen SCO properties, in alpha (which would be signed and sent to partners as the home's); nothing
 * ever goes into the default collection, whose readers need not read `feeds`. A token that may write
 * `feeds` stores the sighting there and shares it only into the circles
 * whose collection it may write, is told only of the copies it may read, and the evidence keeps of
 * each observable its ID contributing properties and the property the pattern compared, never the
 * rest of what the caller sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import type { Circle } from '../../src/policy/circle.ts';
import type { CollectionGrant } from '../../src/store/object-store.ts';
import { openTestHttpApp } from '../circles/test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const IND = 'indicator--cccccccc-0000-4000-8000-000000000001';
const C2 = '198.51.100.9';
const CHOSEN = 'ANY TEXT THE CALLER CHOOSES';

const TOKENS: Record<string, readonly CollectionGrant[]> = {
  /** Reads the internal feed only. */
  reader: [{ collectionId: 'feeds', read: true, write: false }],
  /** Also writes the indicator's collection: its sightings are stored there, and go into no circle. */
  recorder: [{ collectionId: 'feeds', read: true, write: true }, { collectionId: 'default', read: true, write: true }],
  /** Reads and writes the indicator's collection, and nothing else. */
  scribe: [{ collectionId: 'feeds', read: true, write: true }],
  /** Writes the default collection and alpha's, not `feeds`: nothing stored at home, a copy in alpha. */
  circleOnly: [{ collectionId: 'feeds', read: true, write: false }, { collectionId: 'default', read: true, write: true }, { collectionId: 'alpha', read: true, write: true }],
  /** Also writes alpha's collection, without reading it. */
  blindSharer: [{ collectionId: 'feeds', read: true, write: true }, { collectionId: 'alpha', read: false, write: true }],
  /** Also reads and writes alpha's collection. */
  sharer: [{ collectionId: 'feeds', read: true, write: true }, { collectionId: 'alpha', read: true, write: true }],
};
const secretOf = (name: string): string => `ent_${name.toLowerCase().padEnd(40, '0')}`;

interface Answer {
  readonly sightings_stored: number;
  readonly sightings_shared: number;
  readonly sightings_not_stored?: string;
  readonly alerts: readonly { indicator_id: string; sighting_id: string | null }[];
}

describe('POST /api/observations stores and shares only where the caller may write', () => {
  let store: SqliteObjectStore;
  let app: FastifyInstance;
  let hour = 0;

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
    await store.createOrganisation({ id: P, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    for (const id of ['default', 'feeds', 'alpha']) await store.createCollection({ id, title: id }, CREATED);
    await store.setMeta('default_collection', 'default');
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, P].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    const open = openTerms({ highestTlp: 'amber', sightingSharing: 'evidence' });
    const terms = { ...open, scope: { ...open.scope, types: [...open.scope.types, 'sighting', 'observed-data', 'email-message', 'email-addr'] } };
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms });
    await store.addAcceptance({ circleId: 'alpha', organisationId: P, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    const indicator = { type: 'indicator', spec_version: '2.1', id: IND, created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', created_by_ref: HOME, name: 'c2', pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green] };
    await store.addObjects('feeds', [indicator]);
    await store.addObjects('alpha', [indicator]);
    for (const [name, grants] of Object.entries(TOKENS)) {
      await store.createToken({ name, secretHash: hashTokenSecret(secretOf(name)), admin: false, organisationId: HOME, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [...grants] });
    }
    app = await openTestHttpApp(store, HOME, AT);
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  /** One observation of the C2 address, each in an hour of its own (so each opens an alert), with content the caller chose. */
  async function post(token: keyof typeof TOKENS, inHour = hour++, extra: Record<string, unknown> = {}): Promise<Answer> {
    const t = `2026-05-31T${String(inHour).padStart(2, '0')}:00:00Z`;
    const line = JSON.stringify({
      type: 'observed-data', first_observed: t, last_observed: t,
      objects: {
        '0': { type: 'ipv4-addr', value: C2, x_payload: CHOSEN },
        '1': { type: 'email-message', is_multipart: false, subject: 'internal: merger plans', body: 'confidential home text', x_note: CHOSEN },
        ...extra,
      },
    });
    const reply = await app.inject({ method: 'POST', url: '/api/observations', headers: { authorization: `Bearer ${secretOf(token)}`, 'content-type': 'application/x-ndjson', accept: 'application/json' }, payload: line });
    assert.equal(reply.statusCode, 200, reply.body);
    return reply.json<Answer>();
  }

  const jsonIn = async (collectionId: string): Promise<string[]> => (await store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: 100 })).entries.map((entry) => entry.json);
  const sightingsIn = async (collectionId: string): Promise<number> => (await store.listEntries(collectionId, { types: ['sighting'], versions: [{ kind: 'all' }] }, { limit: 100 })).entries.length;

  it("tells a token that may not write the indicator's collection of the match, and stores and shares nothing", async () => {
    const answer = await post('reader');
    assert.deepEqual(answer.alerts.map((alert) => [alert.indicator_id, alert.sighting_id]), [[IND, null]]);
    assert.deepEqual([answer.sightings_stored, answer.sightings_shared, answer.sightings_not_stored], [0, 0, 'no-write-grant']);
    assert.deepEqual(await jsonIn('default'), []);
    assert.equal((await jsonIn('alpha')).length, 1, 'alpha holds the indicator alone');
  });

  it('a token that stores nothing does not, by posting first, suppress the alert and sighting of one that may store them', async () => {
    const inHour = hour++;
    assert.equal((await post('reader', inHour)).sightings_stored, 0);
    const answer = await post('scribe', inHour);
    assert.deepEqual([answer.alerts.length, answer.sightings_stored], [1, 1]);
  });

  it("stores the sighting of a token that may write the indicator's collection there, and shares it into no circle it may not write", async () => {
    const before = await sightingsIn('feeds');
    const answer = await post('recorder');
    assert.deepEqual([answer.sightings_stored, answer.sightings_shared, answer.sightings_not_stored], [1, 0, undefined]);
    assert.equal(await sightingsIn('feeds'), before + 1);
    assert.equal(await sightingsIn('default'), 0, 'never in the default collection, whose readers need not read feeds');
    assert.equal((await jsonIn('alpha')).length, 1);
  });

  it("shares into a circle it may write a token that may not write the indicator's own collection, storing nothing at home", async () => {
    const [home, shared] = [await sightingsIn('feeds'), await sightingsIn('alpha')];
    const answer = await post('circleOnly');
    assert.deepEqual([answer.sightings_stored, answer.sightings_shared, answer.sightings_not_stored], [0, 1, 'no-write-grant']);
    assert.deepEqual([await sightingsIn('feeds'), await sightingsIn('alpha'), await sightingsIn('default')], [home, shared + 1, 0]);
    assert.deepEqual(answer.alerts.map((alert) => alert.sighting_id), [null], 'no home sighting to name');
  });

  it('shares into a circle whose collection the token may write, but does not count a copy it may not read', async () => {
    const before = await sightingsIn('alpha');
    const answer = await post('blindSharer');
    assert.deepEqual([answer.sightings_stored, answer.sightings_shared], [1, 0]);
    assert.equal(await sightingsIn('alpha'), before + 1);
  });

  it('counts the copies the token may read, and the evidence keeps of what it sent only what identifies each observable and what the pattern compared', async () => {
    const before = await sightingsIn('alpha');
    const answer = await post('sharer');
    assert.deepEqual([answer.sightings_stored, answer.sightings_shared], [1, 1]);
    assert.equal(await sightingsIn('alpha'), before + 1);
    for (const collectionId of ['feeds', 'alpha']) {
      const stored = await jsonIn(collectionId);
      assert.ok(stored.some((json) => json.includes(`"value":"${C2}"`)), `${collectionId}: the observable that matched`);
      assert.deepEqual(stored.filter((json) => json.includes(CHOSEN)), [], `${collectionId}: nothing the caller added beyond it`);
    }
  });

  it('an object whose type is named after a property of every object, beside the match, costs no sighting', async () => {
    const answer = await post('recorder', hour++, { '2': { type: 'constructor', value: 'a' } });
    assert.deepEqual([answer.alerts.length, answer.sightings_stored], [1, 1]);
  });
});
