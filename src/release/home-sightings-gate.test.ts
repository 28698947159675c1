// The home sightings gate decides evidence (observed-data, observables) by the sighting it was written
// with, found through the store's index of evidence references however far after it that was stored:
// a request costs a bounded number of store calls and rows, however many sightings the collection
// holds, and evidence no sighting names is withheld.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metaKeys } from '../bootstrap-node.ts';
import type { Circle } from '../policy/circle.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { StixObject } from '../stix/types.ts';
import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../store/sqlite/sqlite-object-store.ts';
import { openHomeSightingsGate, type HomeSightingsGateStore } from './home-sightings-gate.ts';

const HOME = 'identity--0a0a0a0a-0000-4000-8000-0000000000a1';
const PARTNER = 'identity--0a0a0a0a-0000-4000-8000-0000000000b2';
const CREATED = '2026-01-01T00:00:00.000Z';
const AT = new Date('2026-06-01T00:00:00Z');
/** In circle alpha's collection, which the reader reads. */
const READ = 'indicator--dddddddd-0000-4000-8000-000000000001';
/** In circle beta's collection, which the reader does not read. */
const UNREAD = 'indicator--dddddddd-0000-4000-8000-000000000002';
const SIGHTINGS = 'home-sightings';

const uuid = (prefix: string, n: number): string => `${prefix}--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function indicator(id: string): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id, created: CREATED, modified: CREATED, created_by_ref: PARTNER,
    name: 'c2', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: CREATED,
  } as StixObject;
}

function address(n: number): StixObject {
  return { type: 'ipv4-addr', spec_version: '2.1', id: uuid('ipv4-addr', n), value: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` } as StixObject;
}

/** The observed-data and the sighting of an alert, as sightingObjects makes them (the observables go before). */
function sightingOf(n: number, of: string, refs: readonly string[]): { observedData: StixObject; sighting: StixObject } {
  const observedData = {
    type: 'observed-data', spec_version: '2.1', id: uuid('observed-data', n), created: CREATED, modified: CREATED, created_by_ref: HOME,
    first_observed: CREATED, last_observed: CREATED, number_observed: 1, object_refs: [...refs], x_entente_sighting_evidence: true,
  } as StixObject;
  const sighting = {
    type: 'sighting', spec_version: '2.1', id: uuid('sighting', n), created: CREATED, modified: CREATED, created_by_ref: HOME,
    sighting_of_ref: of, observed_data_refs: [observedData.id], where_sighted_refs: [HOME], count: 1, first_seen: CREATED, last_seen: CREATED,
  } as StixObject;
  return { observedData, sighting };
}

/** One alert's objects in the order the node stores them: observables, observed-data, sighting. */
function bundle(n: number, of: string, observables: readonly StixObject[] = [address(n)]): StixObject[] {
  const { observedData, sighting } = sightingOf(n, of, observables.map((o) => o.id));
  return [...observables, observedData, sighting];
}

const reader: Recipient = {
  name: 'analyst', organisationId: HOME, admin: false, actsForHome: true,
  grants: [{ collectionId: SIGHTINGS, read: true, write: false }, { collectionId: 'alpha', read: true, write: false }],
};

/** Counts what the gate asks of the store: listEntries and evidenceReferrersOf calls, and the rows they return. */
function counted(store: ObjectStore): { store: HomeSightingsGateStore; calls: () => number; rows: () => number; reset: () => void } {
  let calls = 0;
  let rows = 0;
  return {
    store: {
      listCircles: () => store.listCircles(),
      listEntries: async (collectionId, filter, page) => {
        const answer = await store.listEntries(collectionId, filter, page);
        calls += 1;
        rows += answer.entries.length;
        return answer;
      },
      evidenceReferrersOf: async (collectionId, entries) => {
        const answer = await store.evidenceReferrersOf(collectionId, entries);
        calls += 1;
        rows += answer.filter((entry) => entry !== undefined).length;
        return answer;
      },
    },
    calls: () => calls,
    rows: () => rows,
    reset: () => {
      calls = 0;
      rows = 0;
    },
  };
}

async function openStore(): Promise<SqliteObjectStore> {
  const store = openSqliteObjectStore({ path: ':memory:', clock: () => AT });
  await store.setMeta('home_organisation', JSON.stringify({ type: 'identity', spec_version: '2.1', id: HOME, created: CREATED, modified: CREATED, name: 'Home', identity_class: 'organization' }));
  await store.createOrganisation({ id: PARTNER, name: 'P', kind: 'cert', sectors: [], country: undefined, identityJson: '{}', createdAt: CREATED });
  for (const id of [SIGHTINGS, 'alpha', 'beta']) await store.createCollection({ id, title: id }, new Date(CREATED));
  // The node's home sightings collection, as bootstrap records it: the store indexes evidence there alone.
  await store.setMeta(metaKeys.homeSightingsCollection, SIGHTINGS);
  for (const id of ['alpha', 'beta']) {
    await store.createCircle(
      {
        id, name: id, kind: 'formal', visibility: 'open', collectionId: id, defaultTlp: 'green', validFrom: CREATED, reviewAt: '2027-01-01T00:00:00.000Z',
        members: [HOME, PARTNER].map((organisationId, n) => ({ organisationId, role: n === 0 ? 'coordinator' : 'contributor', joinedAt: CREATED, trial: false })),
      } as Circle,
      new Date(CREATED),
    );
  }
  await store.addObjects('alpha', [indicator(READ)]);
  await store.addObjects('beta', [indicator(UNREAD)]);
  return store;
}

const all = async (store: ObjectStore): Promise<StoredEntry[]> => [...(await store.listEntries(SIGHTINGS, { versions: [{ kind: 'all' }] }, { limit: 100_000 })).entries];

async function releasedIds(store: ObjectStore, entries?: readonly StoredEntry[]): Promise<string[]> {
  const gate = await openHomeSightingsGate(store, reader, SIGHTINGS);
  return (await gate.release(entries ?? (await all(store)))).released.map((entry) => entry.id).sort();
}

describe('the home sightings gate, deciding evidence by the sighting written with it', () => {
  let store: SqliteObjectStore;
  before(async () => {
    store = await openStore();
  });
  after(async () => {
    await store.close();
  });

  it("releases a released sighting's evidence and withholds a withheld one's, bundles interleaved in one write", async () => {
    await store.addObjects(SIGHTINGS, [...bundle(1, READ), ...bundle(2, UNREAD), ...bundle(3, READ), ...bundle(4, UNREAD)]);
    assert.deepEqual(
      await releasedIds(store),
      [uuid('ipv4-addr', 1), uuid('ipv4-addr', 3), uuid('observed-data', 1), uuid('observed-data', 3), uuid('sighting', 1), uuid('sighting', 3)].sort(),
    );
    // Decided one by one, concurrently, as a DELETE decides an object's versions: the same answer.
    const gate = await openHomeSightingsGate(store, reader, SIGHTINGS);
    const entries = await all(store);
    const decisions = await Promise.all(entries.map((entry) => gate.decide(entry)));
    assert.deepEqual(entries.filter((_, n) => decisions[n]?.kind !== 'withhold').map((entry) => entry.id).sort(), await releasedIds(store));
  });

  it('decides each entry a search hands it on its own, though search gives every hit the same stand-in dateAdded (0)', async () => {
    const [, , released] = bundle(30, READ);
    const [, , withheld] = bundle(31, UNREAD);
    const standIn = (object: StixObject): StoredEntry => ({ id: object.id, type: object.type, version: String(object['modified']), specVersion: '2.1', dateAdded: 0, revoked: false, json: JSON.stringify(object) });
    const gate = await openHomeSightingsGate(store, reader, SIGHTINGS);
    assert.deepEqual((await gate.release([standIn(released as StixObject)])).released.map((entry) => entry.id), [uuid('sighting', 30)]);
    assert.deepEqual((await gate.release([standIn(withheld as StixObject)])).released, [], 'a sighting of an indicator the reader may not read, asked of the same gate next');
  });

  it('follows an observable referring to another, and keeps releasing after a later version of the sighting with final counts', async () => {
    const traffic = { type: 'network-traffic', spec_version: '2.1', id: uuid('network-traffic', 10), src_ref: uuid('ipv4-addr', 10), protocols: ['tcp'] } as StixObject;
    const objects = bundle(10, READ, [address(10), traffic]);
    await store.addObjects(SIGHTINGS, objects);
    const sighting = objects.at(-1) as StixObject;
    await store.addObjects(SIGHTINGS, [{ ...sighting, modified: '2026-01-01T00:00:01.000Z', count: 2 } as StixObject]);
    const released = await releasedIds(store);
    for (const id of [uuid('ipv4-addr', 10), uuid('network-traffic', 10), uuid('observed-data', 10), uuid('sighting', 10)]) assert.ok(released.includes(id), id);
    assert.equal(released.filter((id) => id === uuid('sighting', 10)).length, 2, 'both versions of the sighting');
  });

  it('withholds an observable stored with a withheld sighting, even when a released sighting names it later (stored once, it unlocks nothing)', async () => {
    await store.addObjects(SIGHTINGS, bundle(20, UNREAD));
    // The node's next sighting of the same address: the observable is in the collection already, so only the observed-data and the sighting are added.
    const { observedData, sighting } = sightingOf(21, READ, [uuid('ipv4-addr', 20)]);
    await store.addObjects(SIGHTINGS, [address(20), observedData, sighting]);
    const released = await releasedIds(store);
    assert.ok(released.includes(uuid('observed-data', 21)) && released.includes(uuid('sighting', 21)));
    assert.ok(!released.includes(uuid('ipv4-addr', 20)) && !released.includes(uuid('observed-data', 20)) && !released.includes(uuid('sighting', 20)));
  });

  it('decides evidence by the sighting written with it however far after it that was stored, other sightings between', async () => {
    const far = bundle(30, READ);
    const near = bundle(31, READ);
    const farUnread = bundle(32, UNREAD);
    const fillers = Array.from({ length: 1000 }, (_, n) => address(1000 + n));
    // The observable and observed-data of 30 and 32, the whole of 31, a thousand entries, then 30's and 32's sightings.
    await store.addObjects(SIGHTINGS, [...far.slice(0, 2), ...farUnread.slice(0, 2), ...near, ...fillers, far[2] as StixObject, farUnread[2] as StixObject]);
    const released = await releasedIds(store);
    for (const id of [uuid('sighting', 30), uuid('observed-data', 30), uuid('ipv4-addr', 30), uuid('observed-data', 31), uuid('ipv4-addr', 31)]) assert.ok(released.includes(id), id);
    for (const id of [uuid('sighting', 32), uuid('observed-data', 32), uuid('ipv4-addr', 32)]) assert.ok(!released.includes(id), `${id}: its sighting names an indicator the reader may not read`);
    // Each piece read alone (a GET of the object) is decided alike.
    const gate = await openHomeSightingsGate(store, reader, SIGHTINGS);
    const entries = await all(store);
    const alone = async (id: string): Promise<string> => (await gate.decide(entries.find((entry) => entry.id === id) as StoredEntry)).kind;
    assert.deepEqual([await alone(uuid('observed-data', 30)), await alone(uuid('ipv4-addr', 30)), await alone(uuid('observed-data', 32))], ['share', 'share', 'withhold']);
  });

  it('releases every observable of an alert whose evidence holds more than 256 of them', async () => {
    const observables = Array.from({ length: 300 }, (_, n) => address(5000 + n));
    await store.addObjects(SIGHTINGS, bundle(50, READ, observables));
    const released = new Set(await releasedIds(store));
    assert.deepEqual(observables.filter((observable) => !released.has(observable.id)).map((observable) => observable.id), []);
  });

  it('still decides by the sighting once its first version is deleted: a later version names the same evidence', async () => {
    const objects = bundle(60, READ);
    const sighting = objects.at(-1) as StixObject;
    await store.addObjects(SIGHTINGS, objects);
    await store.addObjects(SIGHTINGS, [bundle(61, UNREAD)].flat());
    await store.addObjects(SIGHTINGS, [{ ...sighting, modified: '2026-01-01T00:00:01.000Z', count: 2 } as StixObject]);
    await store.deleteObject(SIGHTINGS, sighting.id, { versions: [{ kind: 'first' }] });
    const released = await releasedIds(store);
    assert.ok(released.includes(uuid('observed-data', 60)) && released.includes(uuid('ipv4-addr', 60)), released.join(' '));
    assert.ok(!released.includes(uuid('observed-data', 61)));
  });

  it("fails the request, and only the request, when the store fails to say what a page's sightings name", async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', record);
    try {
      const failing: HomeSightingsGateStore = {
        listCircles: () => store.listCircles(),
        listEntries: (collectionId, filter, page) => (filter.ids === undefined ? store.listEntries(collectionId, filter, page) : Promise.reject(new Error('disk gone'))),
        evidenceReferrersOf: (collectionId, entries) => store.evidenceReferrersOf(collectionId, entries),
      };
      const gate = await openHomeSightingsGate(failing, reader, SIGHTINGS);
      await assert.rejects(gate.release(await all(store), 1), /disk gone/);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('withholds evidence no sighting refers to, and anything else stored here', async () => {
    await store.addObjects(SIGHTINGS, [address(40), indicator('indicator--dddddddd-0000-4000-8000-000000000040')]);
    const released = await releasedIds(store);
    assert.ok(!released.includes(uuid('ipv4-addr', 40)) && !released.includes('indicator--dddddddd-0000-4000-8000-000000000040'));
  });
});

describe('the home sightings gate, with 20,000 sightings', () => {
  let store: SqliteObjectStore;
  const SIGHTINGS_MADE = 20_000;
  before(async () => {
    store = await openStore();
    const objects: StixObject[] = [];
    for (let n = 0; n < SIGHTINGS_MADE; n++) objects.push(...bundle(n, n % 2 === 0 ? READ : UNREAD));
    for (let start = 0; start < objects.length; start += 6000) await store.addObjects(SIGHTINGS, objects.slice(start, start + 6000));
  });
  after(async () => {
    await store.close();
  });

  it('reads for a page of 100 entries a number of entries bounded by the page, not by the collection', async () => {
    // Entries are added a microsecond apart: the page starts about half way through the 60,000.
    const first = (await store.listEntries(SIGHTINGS, { versions: [{ kind: 'all' }] }, { limit: 1 })).entries[0] as StoredEntry;
    const page = (await store.listEntries(SIGHTINGS, { versions: [{ kind: 'all' }] }, { limit: 100, after: first.dateAdded + 30_000 })).entries;
    assert.equal(page.length, 100);
    const counting = counted(store);
    const gate = await openHomeSightingsGate(counting.store, reader, SIGHTINGS);
    const { released } = await gate.release(page);
    // The page's sightings of READ and their evidence: every other bundle, whole.
    assert.ok(released.length >= 45 && released.length <= 54, String(released.length));
    for (const entry of released) {
      const object = JSON.parse(entry.json) as { type: string; id: string; sighting_of_ref?: string };
      const n = Number(object.id.slice(-12));
      assert.equal(n % 2, 0, `${object.type} ${object.id} belongs to a released sighting`);
    }
    // The sightings the page's evidence was written with, and what the sightings name: far from the 60,000 entries held.
    assert.ok(counting.rows() <= 100 + 10, `rows read: ${counting.rows()}`);
    assert.ok(counting.calls() <= 8, `store calls: ${counting.calls()}`);
  });

  it('reads for one observed-data (GET of an object) a few entries', async () => {
    const [entry] = (await store.listEntries(SIGHTINGS, { ids: [uuid('observed-data', 12_346)], versions: [{ kind: 'all' }] }, { limit: 1 })).entries;
    assert.ok(entry !== undefined);
    const counting = counted(store);
    const gate = await openHomeSightingsGate(counting.store, reader, SIGHTINGS);
    assert.equal((await gate.decide(entry)).kind, 'share');
    assert.ok(counting.rows() <= 4 && counting.calls() <= 4, `rows read: ${counting.rows()}, store calls: ${counting.calls()}`);
    const [withheld] = (await store.listEntries(SIGHTINGS, { ids: [uuid('observed-data', 12_347)], versions: [{ kind: 'all' }] }, { limit: 1 })).entries;
    assert.equal((await gate.decide(withheld as StoredEntry)).kind, 'withhold');
  });
});
