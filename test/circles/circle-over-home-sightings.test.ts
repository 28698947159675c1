// A circle's collection goes to its members: everything stored there is released to them through the
// gate. Home sightings and their evidence are stored unmarked beside their indicators, for the home's
// own readers (correlate/home-sighting-placement.ts); a circle created over a collection already
// holding them, or over the default collection (where older versions stored them, and where anything
// may be written for the home's readers), would hand them to the members at the circle's default TLP,
// past sighting_sharing and the indicator's markings. Creating such a circle is refused.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEntenteError } from '../../src/errors/entente-error.ts';
import type { ObjectStore } from '../../src/store/object-store.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { createCircle, type CircleDeps } from '../../src/circles/circle-operations.ts';
import type { StixObject } from '../../src/stix/types.ts';

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const PARTNER = 'identity--0b000000-0000-4000-8000-000000000002';
const NOW = new Date('2026-03-01T00:00:00Z');
const CREATED = '2026-02-01T00:00:00.000Z';
const INDICATOR = 'indicator--1e000000-0000-4000-8000-000000000001';

const circleOver = (collectionId: string): Record<string, unknown> => ({
  id: `circle-${collectionId}`, name: `Circle over ${collectionId}`, kind: 'tacit', visibility: 'hidden', default_tlp: 'green', valid_until: '2026-12-31T00:00:00Z', collection_id: collectionId,
});

const indicator = { type: 'indicator', spec_version: '2.1', id: INDICATOR, created: CREATED, modified: CREATED, pattern: "[ipv4-addr:value = '198.51.100.9']", pattern_type: 'stix', valid_from: '2026-02-01T00:00:00Z' };
const sightingBy = (createdBy: string, n: number): StixObject =>
  ({ type: 'sighting', spec_version: '2.1', id: `sighting--2e000000-0000-4000-8000-00000000000${n}`, created: CREATED, modified: CREATED, created_by_ref: createdBy, sighting_of_ref: INDICATOR, count: 1 }) as unknown as StixObject;
const evidence: StixObject = {
  type: 'observed-data', spec_version: '2.1', id: 'observed-data--3e000000-0000-4000-8000-000000000001', created: CREATED, modified: CREATED,
  first_observed: CREATED, last_observed: CREATED, number_observed: 1, object_refs: ['ipv4-addr--4b8ed646-46df-5a9c-b5a6-b3ae128f35a6'], x_entente_sighting_evidence: true,
} as unknown as StixObject;

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isEntenteError(error), `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('creating a circle over a collection holding home sightings', () => {
  let store: ObjectStore;
  let deps: CircleDeps;
  beforeEach(async () => {
    store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    deps = { store, clock: () => NOW, homeOrganisationId: HOME };
    for (const id of ['default', 'feeds', 'partner-feed']) await store.createCollection({ id, title: id }, NOW);
    await store.setMeta('default_collection', 'default');
  });
  afterEach(() => store.close());

  it('refuses the default collection, even empty: its readers are every home reader, not the members', async () => {
    await refused(createCircle(deps, circleOver('default')), 'ENT_CIRCLE_COLLECTION_DEFAULT', /default collection/);
    assert.equal(await store.getCircleByCollection('default'), undefined);
  });

  it('refuses a collection holding a sighting by the home organisation, or sighting evidence', async () => {
    await store.addObjects('feeds', [indicator as unknown as StixObject, sightingBy(HOME, 1)]);
    await refused(createCircle(deps, circleOver('feeds')), 'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS', /feeds holds home sightings/);
    await store.addObjects('partner-feed', [evidence]);
    await refused(createCircle(deps, circleOver('partner-feed')), 'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS', /partner-feed holds home sightings/);
    assert.deepEqual(await store.listCircles(), []);
  });

  it("accepts a collection of indicators and of partners' sightings", async () => {
    await store.addObjects('feeds', [indicator as unknown as StixObject, sightingBy(PARTNER, 2)]);
    const circle = await createCircle(deps, circleOver('feeds'));
    assert.equal(circle.collectionId, 'feeds');
  });
});
