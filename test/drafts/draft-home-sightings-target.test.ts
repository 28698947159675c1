// The home sightings collection is written by the node alone (its matcher's sightings and their
// evidence): no TAXII POST is taken into it (post-objects.ts), and no draft is published into it
// either, by its alias or its id, whoever publishes. The draft stays unpublished and nothing is stored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metaKeys } from '../../src/bootstrap-node.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import { ACCEPTED_BY_ANA, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T03:00:00.000Z');

describe('publishing a draft into the home sightings collection', () => {
  for (const named of ['home-sightings', 'sightings-id'] as const) {
    it(`is refused with ENT_COLLECTION_NOT_WRITABLE when the collection is named ${named === 'home-sightings' ? 'by its alias' : 'by its id'}`, async () => {
      const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
      try {
        await store.createCollection({ id: 'sightings-id', title: 'Home sightings', alias: 'home-sightings' }, NOW);
        await store.setMeta(metaKeys.homeSightingsCollection, 'sightings-id');
        const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31.', items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA)] }));
        const deps: DraftDeps = { store, clock: () => NOW, randomUuid: () => crypto.randomUUID(), homeOrganisationId: HOME };
        await assert.rejects(publishDraft(deps, { draftId: id, collection: named, tlp: 'amber', analyst: 'ana', viewer: 'operator' }), (error: unknown) => {
          assert.equal((error as { code?: string }).code, 'ENT_COLLECTION_NOT_WRITABLE');
          assert.match((error as Error).message, /home sightings collection/);
          return true;
        });
        assert.equal((await requireDraft(deps, id, 'operator')).publication, undefined);
        assert.equal((await store.listEntries('sightings-id', {}, { limit: 10 })).entries.length, 0, 'nothing was stored');
      } finally {
        await store.close();
      }
    });
  }
});
