// GET /api/search for a reader who may not read every collection: what it answers must not depend on
// documents that reader cannot see. The full-text index scores a hit (bm25) with statistics of the
// whole index — how many documents hold each word, their average length — so a score, and an order
// built on it, would let a partner count the hidden documents holding a word it chose by planting
// its own document and watching that document's score (or its place beside another) move.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { openTerms } from '../../src/federation/test-support.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import type { Circle } from '../../src/policy/circle.ts';
import { openTestHttpApp } from './test-http-app.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-000000000000';
const P = 'identity--0a0a0a0a-0000-4000-8000-0000000000bb';
const AT = new Date('2026-06-01T00:00:00Z');
const CREATED = new Date('2026-01-01T00:00:00Z');
const P_SECRET = 'ent_partner-p-000000000000000000000000000000000';
const ADMIN_SECRET = 'ent_admin-00000000000000000000000000000000000';

const malware = (n: number, name: string): StixObject => ({
  type: 'malware', spec_version: '2.1', id: `malware--bbbbbbbb-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name, is_family: true,
});
let hiddenSerial = 0;
/** The home organisation's report in a collection the partner has no grant on. */
const hiddenReport = (name: string): StixObject => {
  hiddenSerial += 1;
  return {
    type: 'report', spec_version: '2.1', id: `report--cccccccc-0000-4000-8000-${String(hiddenSerial).padStart(12, '0')}`,
    created: '2026-03-01T00:00:00.000Z', modified: '2026-03-01T00:00:00.000Z', name, published: '2026-03-01T00:00:00Z',
    object_refs: ['malware--bbbbbbbb-0000-4000-8000-000000000001'],
  };
};

interface SearchBody {
  count: number;
  results: Record<string, unknown>[];
}

describe('GET /api/search answers a partner the same whatever it cannot see', () => {
  let store: ObjectStore;
  let app: FastifyInstance;

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
    await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED.toISOString(), modified: CREATED.toISOString(), name: 'Home', identity_class: 'organization' }));
    await store.createOrganisation({ id: P, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED.toISOString() });
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    await store.createCollection({ id: 'secret', title: 'home only' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'green', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
      members: [HOME, P].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
    } as Circle, CREATED);
    await store.addAgreement({ circleId: 'alpha', version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z', terms: openTerms({ unsignedInput: 'accept' }) });
    await store.addAcceptance({ circleId: 'alpha', organisationId: P, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    await store.createToken({ name: 'p', secretHash: hashTokenSecret(P_SECRET), admin: false, organisationId: P, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [{ collectionId: 'alpha', read: true, write: true }] });
    await store.createToken({ name: 'admin', secretHash: hashTokenSecret(ADMIN_SECRET), admin: true, organisationId: undefined, createdAt: CREATED.toISOString(), revokedAt: undefined, grants: [] });
    // Filler, so that the index is not tiny; then the partner's own probes in the collection it reads.
    await store.addObjects('alpha', Array.from({ length: 20 }, (_, i) => malware(100 + i, `filler ${i}`)));
    await store.addObjects('alpha', [malware(1, 'nightjar probe')], undefined, P);
    await store.addObjects('alpha', [malware(2, 'nightjar nightjar kestrel'), malware(3, 'nightjar kestrel kestrel')], undefined, P);
    app = await openTestHttpApp(store, HOME, AT);
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  const search = async (q: string, secret = P_SECRET): Promise<SearchBody> => {
    const reply = await app.inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent(q)}`, headers: { authorization: `Bearer ${secret}` } });
    assert.equal(reply.statusCode, 200, reply.body);
    return reply.json<SearchBody>();
  };
  const idsOf = (body: SearchBody): unknown[] => body.results.map((hit) => hit['id']);

  it('gives a partner no score, and the same answer before and after hidden documents with the word are added', async () => {
    const before = await search('nightjar probe');
    assert.equal(before.count, 1);
    assert.equal('rank' in (before.results[0] ?? {}), false, 'a score counts hidden documents');
    for (let i = 0; i < 3; i += 1) await store.addObjects('secret', [hiddenReport(`Operation Nightjar probe ${i}`)]);
    assert.deepEqual(await search('nightjar probe'), before);
  });

  it("keeps the order of a partner's hits when hidden documents change how often each word occurs", async () => {
    const query = 'nightjar kestrel';
    const partnerBefore = idsOf(await search(query));
    const relevanceBefore = idsOf(await search(query, ADMIN_SECRET)).filter((id) => partnerBefore.includes(id));
    assert.equal(partnerBefore.length, 2);
    // Hidden documents with "kestrel" make it the commoner word, then hidden ones with "nightjar" make it so.
    for (let i = 0; i < 4; i += 1) await store.addObjects('secret', [hiddenReport(`kestrel sighting ${i}`)]);
    const relevanceMid = idsOf(await search(query, ADMIN_SECRET)).filter((id) => partnerBefore.includes(id));
    const partnerMid = idsOf(await search(query));
    for (let i = 0; i < 12; i += 1) await store.addObjects('secret', [hiddenReport(`nightjar sighting ${i}`)]);
    const relevanceAfter = idsOf(await search(query, ADMIN_SECRET)).filter((id) => partnerBefore.includes(id));
    // The index-wide relevance order does move with the hidden documents (the danger is real)…
    assert.notDeepEqual(relevanceMid, relevanceAfter, `relevance: ${JSON.stringify([relevanceBefore, relevanceMid, relevanceAfter])}`);
    // …the partner's order does not.
    assert.deepEqual(partnerMid, partnerBefore);
    assert.deepEqual(idsOf(await search(query)), partnerBefore);
  });

  it('orders hits matched on their name first, then the newest first, for a partner', async () => {
    await store.addObjects('alpha', [{ ...malware(4, 'unrelated title'), description: 'mentions a nightjar' }], undefined, P);
    // Added last, but the word is not in its name.
    assert.deepEqual(idsOf(await search('nightjar')), [malware(3, '').id, malware(2, '').id, malware(1, '').id, malware(4, '').id]);
  });

  it('keeps the score for an administrator, who may read every collection', async () => {
    const body = await search('nightjar', ADMIN_SECRET);
    assert.ok(body.count > 0);
    for (const hit of body.results) assert.equal(typeof hit['rank'], 'number');
  });
});
