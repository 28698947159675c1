// Paging must not admit to entries the caller may not see: `more` is true only when a later entry
// would be released to it, and a `next` cursor never carries the date_added of a withheld entry (it
// points just before the next entry the caller will receive, whose date_added it learns anyway).
// Search likewise: withheld hits do not take the places of the ones the caller may see. Where the
// withheld entries in a row outnumber what one request examines, the cursor does point after a
// withheld one, and is sealed with the node's key so that the partner cannot read it (cursor.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openTestHttpApp } from './test-http-app.ts';
import { openCursor } from '../../src/taxii/cursor.ts';
import { CURSOR_KEY_META, loadCursorKey } from '../../src/taxii/cursor-key.ts';
import { hashTokenSecret } from '../../src/policy/token-secret.ts';
import { TLP2_MARKING_IDS } from '../../src/policy/tlp.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--edededed-0000-4000-8000-000000000000';
const PARTNER = 'identity--edededed-0000-4000-8000-00000000000a';
const TAXII = 'application/taxii+json;version=2.1';
const SECRET = 'ent_partner-00000000000000000000000000000';

function indicator(n: number, tlp: 'green' | 'red', name = `${tlp} ${n}`): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--edededed-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created: '2026-02-01T00:00:00.000Z', modified: '2026-02-01T00:00:00.000Z', name,
    pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
}

interface Envelope {
  more?: boolean;
  next?: string;
  objects?: { id: string }[];
}

describe('paging past entries withheld from the caller', () => {
  let store: ObjectStore;
  let app: FastifyInstance;
  /** date_added (µs) of every entry, by object id. */
  const added = new Map<string, number>();
  // More withheld entries in a row (2 to 11) than one request examines to fill a page of one; 15 and
  // 16 for search, where the withheld one comes first (the word in its name, not only in 16's description).
  const visible = [...[1, 12, 14].map((n) => indicator(n, 'green')), { ...indicator(16, 'green', 'crossing'), description: 'a zebra crossing' }];
  const withheld = [...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13].map((n) => indicator(n, 'red')), indicator(15, 'red', 'zebra zebra zebra')];
  const byNumber = (n: number): StixObject => [...visible, ...withheld].find((object) => object.id.endsWith(String(n).padStart(12, '0'))) as StixObject;
  // Collection c2 opens with more withheld entries in a row (101 to 140) than one request examines,
  // to fill a page and then to look ahead: its first cursor can only point after a withheld entry.
  const longWithheld = Array.from({ length: 40 }, (_, i) => indicator(101 + i, 'red'));
  const afterLong = indicator(141, 'green');

  const get = async (path: string, collection = 'c1'): Promise<Envelope> => {
    const response = await app.inject({ method: 'GET', url: `/taxii2/api/collections/${collection}/${path}`, headers: { authorization: `Bearer ${SECRET}`, accept: TAXII } });
    assert.equal(response.statusCode, 200, response.body);
    return JSON.parse(response.body) as Envelope;
  };

  /** The date_added a `next` carries, opened with the node's key as the server does. */
  const cursorTimeOf = async (next: string): Promise<number> => {
    const opened = openCursor(next, await loadCursorKey(store));
    assert.ok(opened.ok, next);
    return opened.value.after;
  };

  before(async () => {
    store = openSqliteObjectStore({ path: ':memory:' });
    const created = new Date('2026-01-01T00:00:00Z');
    await store.createOrganisation({ id: PARTNER, name: 'partner', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: created.toISOString() });
    for (const id of ['c1', 'c2']) {
      await store.createCollection({ id, title: id }, created);
      await store.createCircle(
        {
          id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'amber', validFrom: '2026-01-01T00:00:00.000Z', reviewAt: '2027-01-01T00:00:00.000Z',
          members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: '2026-01-01T00:00:00.000Z', trial: false })),
        },
        created,
      );
      await store.addAgreement({
        circleId: id, version: 1, proposedBy: HOME, proposedAt: '2026-01-02T00:00:00.000Z',
        terms: { scope: { types: ['indicator'] }, highestTlp: 'red', onwardSharing: 'none', attribution: 'keep', expectations: { permittedActions: 'none', affectedPartyNotifications: 'may', providerAttribution: 'may' }, endRule: 'retain' },
      });
      await store.addAcceptance({ circleId: id, organisationId: PARTNER, version: 1, acceptedAt: '2026-01-03T00:00:00.000Z' });
    }
    await store.createToken({ name: 'partner', secretHash: hashTokenSecret(SECRET), admin: false, grants: ['c1', 'c2'].map((collectionId) => ({ collectionId, read: true, write: false })), organisationId: PARTNER, createdAt: created.toISOString(), revokedAt: undefined });
    // One at a time, in number order: RED names nobody, so the partner sees 1, 12, 14 and 16 only.
    for (let n = 1; n <= 16; n += 1) await store.addObjects('c1', [byNumber(n)]);
    for (const object of [...longWithheld, afterLong]) await store.addObjects('c2', [object]);
    for (const collection of ['c1', 'c2']) {
      for (const entry of (await store.listEntries(collection, {}, { limit: 100 })).entries) added.set(entry.id, entry.dateAdded);
    }
    app = await openTestHttpApp(store, HOME);
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('says no more when only withheld entries follow (objects and manifest)', async () => {
    const ids = `match[id]=${byNumber(1).id},${byNumber(2).id}&limit=1`;
    for (const path of [`objects/?${ids}`, `manifest/?${ids}`]) {
      const page = await get(path);
      assert.equal(page.more ?? false, false, path);
      assert.equal(page.next, undefined, path);
    }
    const last = await get(`objects/?match[id]=${byNumber(12).id},${byNumber(13).id}&limit=1`);
    assert.equal(last.more ?? false, false);
  });

  it('walks the visible entries with limit=1, each cursor told by visible entries alone', async () => {
    // A cursor may name a visible entry's date_added, or the microsecond before one (where the next
    // page starts); anything else would come from a withheld entry.
    const told = new Set(visible.flatMap((object) => [added.get(object.id), (added.get(object.id) ?? 0) - 1]));
    const seen: string[] = [];
    let path = 'objects/?limit=1';
    for (let pages = 0; pages < 20; pages += 1) {
      const page = await get(path);
      for (const object of page.objects ?? []) seen.push(object.id);
      if (page.more !== true || page.next === undefined) break;
      const cursorTime = await cursorTimeOf(page.next);
      assert.ok(told.has(cursorTime), `the cursor of page ${pages + 1} carries a withheld entry's date_added`);
      path = `objects/?limit=1&next=${encodeURIComponent(page.next)}`;
    }
    assert.deepEqual(seen, visible.map((object) => object.id));
  });

  it("does not show a partner the date_added of a withheld entry when its cursor must point after one", async () => {
    const hidden = longWithheld.map((object) => String(added.get(object.id)));
    for (const endpoint of ['objects', 'manifest']) {
      const first = await get(`${endpoint}/?limit=1`, 'c2');
      assert.deepEqual(first.objects ?? [], [], endpoint);
      assert.equal(first.more, true, endpoint);
      assert.ok(first.next !== undefined, endpoint);
      // The case this guards: the cursor does carry a withheld entry's date_added...
      assert.ok(hidden.includes(String(await cursorTimeOf(first.next))), `${endpoint}: the first page ends on a withheld entry`);
      // ...and the partner cannot read it, in any spelling of the cursor's bytes.
      const bytes = Buffer.from(first.next, 'base64url');
      for (const view of [first.next, bytes.toString('latin1'), bytes.toString('utf8'), bytes.toString('hex')]) {
        for (const digits of hidden) assert.ok(!view.includes(digits) && !view.includes(digits.slice(0, 10)), `${endpoint}: ${digits} shows in the cursor`);
      }
      // Paging goes on past them to the entry the partner may see.
      const seen: string[] = [];
      let page = first;
      for (let pages = 0; page.more === true && page.next !== undefined && pages < 20; pages += 1) {
        page = await get(`${endpoint}/?limit=1&next=${encodeURIComponent(page.next)}`, 'c2');
        for (const object of page.objects ?? []) seen.push(object.id);
      }
      assert.deepEqual(seen, [afterLong.id], endpoint);
      assert.equal(page.more ?? false, false, endpoint);
    }
    assert.ok((await store.getMeta(CURSOR_KEY_META)) !== undefined, 'the key is kept in node meta');
  });

  it('fills a search with the hits the caller may see, past withheld ones that rank higher', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/search?q=zebra&limit=1', headers: { authorization: `Bearer ${SECRET}`, accept: 'application/json' } });
    assert.equal(response.statusCode, 200, response.body);
    const found = JSON.parse(response.body) as { count: number; results: { id: string }[] };
    assert.deepEqual(found.results.map((hit) => hit.id), [byNumber(16).id]);
    assert.equal(found.count, 1);
  });
});
