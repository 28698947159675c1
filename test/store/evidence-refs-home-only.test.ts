import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureHomeSightingsCollection, metaKeys } from '../../src/bootstrap-node.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { StoredEntry } from '../../src/store/object-store.ts';
import { openSqliteObjectStore, type SqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';

const AT = '2024-01-01T00:00:00.000Z';
const hex = (n: number): string => n.toString(16).padStart(12, '0');
const address = (n: number): StixObject => ({ type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--e0000000-0000-4000-8000-${hex(n)}`, value: `10.0.${n >> 8}.${n & 255}` }) as StixObject;
const observed = (n: number, refs: readonly string[]): StixObject =>
  ({
    type: 'observed-data', spec_version: '2.1', id: `observed-data--e0000000-0000-4000-8000-${hex(n)}`, created: AT, modified: AT,
    first_observed: AT, last_observed: AT, number_observed: 1, object_refs: [...refs],
  }) as StixObject;
const sighting = (n: number, observedData: string): StixObject =>
  ({
    type: 'sighting', spec_version: '2.1', id: `sighting--e0000000-0000-4000-8000-${hex(n)}`, created: AT, modified: AT,
    sighting_of_ref: `indicator--e0000000-0000-4000-8000-${hex(n)}`, observed_data_refs: [observedData],
  }) as StixObject;
const indicator = (n: number): StixObject =>
  ({
    type: 'indicator', spec_version: '2.1', id: `indicator--f0000000-0000-4000-8000-${hex(n)}`, created: AT, modified: AT,
    pattern: `[ipv4-addr:value = '198.51.${n >> 8}.${n & 255}']`, pattern_type: 'stix', valid_from: AT,
  }) as StixObject;

async function entryOf(store: SqliteObjectStore, collectionId: string, id: string): Promise<StoredEntry> {
  const [entry] = (await store.listEntries(collectionId, { ids: [id], versions: [{ kind: 'first' }] }, { limit: 10 })).entries;
  assert.ok(entry !== undefined, id);
  return entry;
}

const evidenceRows = (store: SqliteObjectStore): number => store.database.prepare('SELECT count(*) FROM evidence_refs').pluck().get() as number;

/** A store with its home sightings collection made as a node makes it (bootstrap), and another collection. */
async function openNodeStore(): Promise<{ store: SqliteObjectStore; home: string }> {
  const store = openSqliteObjectStore({ path: ':memory:' });
  let uuids = 0;
  const home = await ensureHomeSightingsCollection(store, { orgName: 'Home', now: new Date(AT), randomUuid: () => `00000000-0000-4000-8000-${hex((uuids += 1))}` });
  await store.createCollection({ id: 'feeds', title: 'Feeds' }, new Date(AT));
  return { store, home: home.id };
}

// Only the home sightings gate asks which entry names an object as evidence, and only of the home
// sightings collection: index rows for any other collection were written and never read.
describe('evidence references are kept for the home sightings collection alone', () => {
  it('writes no row when sightings and observed-data are imported into another collection, and answers nothing there', async () => {
    const { store } = await openNodeStore();
    try {
      const odata = observed(1, [address(1).id]);
      await store.addObjects('feeds', [address(1), odata, sighting(1, odata.id)]);
      assert.equal(evidenceRows(store), 0);
      assert.deepEqual(await store.evidenceReferrersOf('feeds', [await entryOf(store, 'feeds', address(1).id)]), [undefined]);
    } finally {
      await store.close();
    }
  });

  it('answers nothing for another collection even where a store upgraded from schema 16 still holds its rows', async () => {
    // Schema 16's insert wrote a row for every sighting and observed-data of every collection; those
    // rows stay (only their entries' deletion removes them), and the contract says undefined there.
    const { store } = await openNodeStore();
    try {
      const odata = observed(5, [address(5).id]);
      await store.addObjects('feeds', [address(5), odata, sighting(5, odata.id)]);
      store.database.exec(`INSERT INTO evidence_refs (collection_key, ref_id, date_added)
        SELECT e.collection_key, j.value, e.date_added FROM entries e JOIN collections c ON c.key = e.collection_key
          JOIN object_versions ov ON ov.vid = e.vid,
          json_each(ov.json, CASE ov.type WHEN 'sighting' THEN '$.observed_data_refs' ELSE '$.object_refs' END) j
         WHERE c.id = 'feeds' AND ov.type IN ('sighting', 'observed-data') AND j.type = 'text'`);
      assert.equal(evidenceRows(store), 2, "the rows schema 16 wrote for the feed's observed-data and sighting");
      const found = await store.evidenceReferrersOf('feeds', [await entryOf(store, 'feeds', address(5).id), await entryOf(store, 'feeds', odata.id)]);
      assert.deepEqual(found, [undefined, undefined]);
    } finally {
      await store.close();
    }
  });

  it('finds the evidence of a home sighting however many entries lie between, in the collection the node records as its home sightings', async () => {
    const { store, home } = await openNodeStore();
    try {
      assert.equal(await store.getMeta(metaKeys.homeSightingsCollection), home);
      const odata = observed(2, [address(2).id, address(3).id]);
      await store.addObjects(home, [address(2), address(3)]);
      await store.addObjects(home, Array.from({ length: 600 }, (_, n) => indicator(n)));
      await store.addObjects('feeds', [odata]);
      await store.addObjects(home, [odata]);
      await store.addObjects(home, Array.from({ length: 600 }, (_, n) => indicator(1000 + n)));
      await store.addObjects(home, [sighting(2, odata.id)]);
      assert.equal(evidenceRows(store), 3, "two for the home observed-data's observables, one for the home sighting; none for the feed's copy");
      const found = await store.evidenceReferrersOf(home, [
        await entryOf(store, home, address(2).id),
        await entryOf(store, home, address(3).id),
        await entryOf(store, home, odata.id),
      ]);
      assert.deepEqual(found.map((entry) => entry?.id), [odata.id, odata.id, sighting(2, odata.id).id]);
    } finally {
      await store.close();
    }
  });

  it('indexes a collection from the moment the node records it as its home sightings, and writes nothing before any is recorded', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      await store.createCollection({ id: 'sightings', title: 'S' }, new Date(AT));
      const odata = observed(4, [address(4).id]);
      await store.addObjects('sightings', [address(4), odata]);
      assert.equal(evidenceRows(store), 0, 'no home sightings collection yet');
      await store.setMeta(metaKeys.homeSightingsCollection, 'sightings');
      await store.addObjects('sightings', [sighting(4, odata.id)]);
      assert.deepEqual((await store.evidenceReferrersOf('sightings', [await entryOf(store, 'sightings', odata.id)])).map((entry) => entry?.id), [sighting(4, odata.id).id]);
    } finally {
      await store.close();
    }
  });
});
