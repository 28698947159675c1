// A circle created without a collection of its own gets a new one named by its collection_id. Lookups
// by name try ids before aliases, so a new collection whose id is another's alias — `default`, the
// alias of the default collection, or an operator's — would take that name over: grants and imports
// naming it would reach the circle's collection, and through it the members. The store refuses it.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { createCircle, type CircleDeps } from '../../src/circles/circle-operations.ts';
import { findCollection } from '../../src/bootstrap-node.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const NOW = new Date('2026-03-01T00:00:00Z');
const DEFAULT_ID = '5d000000-0000-4000-8000-000000000001';

const circleOver = (collectionId: string): Record<string, unknown> => ({
  id: `circle-${collectionId}`, name: `Circle over ${collectionId}`, kind: 'tacit', visibility: 'hidden', default_tlp: 'green', valid_until: '2026-12-31T00:00:00Z', collection_id: collectionId,
});

describe('a circle whose new collection would take the name of another', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    deps = { store, clock: () => NOW, homeOrganisationId: HOME };
    await store.createCollection({ id: DEFAULT_ID, alias: 'default', title: 'default' }, NOW);
    await store.setMeta('default_collection', DEFAULT_ID);
    await store.createCollection({ id: 'soc-feed', alias: 'soc', title: "The SOC's feed" }, NOW);
  });
  afterEach(() => store.close());

  for (const name of ['default', 'soc']) {
    it(`is refused for collection_id "${name}" (an alias), and the name still finds its collection`, async () => {
      const before = await findCollection(store, name);
      await assert.rejects(createCircle(deps, circleOver(name)), (error: unknown) => isEntenteError(error) && error.code === 'ENT_COLLECTION_EXISTS');
      assert.deepEqual(await store.listCircles(), []);
      assert.equal((await findCollection(store, name))?.id, before?.id);
      assert.equal((await store.listCollections()).length, 2);
    });
  }
});
