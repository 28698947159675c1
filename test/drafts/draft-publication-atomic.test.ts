// A draft's publication enters its collection whole or not at all. When the store refuses one of its
// objects (another writer stored a conflicting version of an id it uses meanwhile), nothing of it
// stays: no report without its indicators, no indicator without its report. The draft stays
// unpublished, and once the conflict is gone it publishes as if nothing had happened.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import type { StoredEntry } from '../../src/store/object-store.ts';
import { publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import type { DraftItem, DraftViewer } from '../../src/drafts/draft.ts';
import { EntenteError } from '../../src/errors/entente-error.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ACCEPTED_BY_ANA, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const ANA: DraftViewer = { token: 'ana', admin: false };

const accepted = (id: string, value: string): DraftItem => ipv4Item(id, value, ACCEPTED_BY_ANA);

/** randomUuid as a counter that can start over, so that the test knows the ids a publication mints. */
function uuids(): { next: () => string; restart: () => void } {
  let n = 0;
  return {
    next: () => `00000000-0000-4000-8000-${(n += 1).toString(16).padStart(12, '0')}`,
    restart: () => {
      n = 0;
    },
  };
}

async function entries(deps: DraftDeps, collectionId: string): Promise<StoredEntry[]> {
  return (await deps.store.listEntries(collectionId, { versions: [{ kind: 'all' }] }, { limit: 1000 })).entries.slice();
}

describe('a draft publication is all or nothing', () => {
  it('leaves the collection as it was when the store refuses one of its objects, and publishes once the conflict is gone', async () => {
    const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
    const ids = uuids();
    const deps: DraftDeps = { store, clock: () => NOW, randomUuid: ids.next, homeOrganisationId: HOME };
    try {
      await store.createCollection({ id: 'feed', title: 'Feed' }, NOW);
      await store.createCollection({ id: 'elsewhere', title: 'Elsewhere' }, NOW);
      await store.addObjects('feed', [{ type: 'malware', spec_version: '2.1', id: 'malware--6a3a8a2e-1b7c-4d2e-8f00-000000000001', created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z', name: 'Dusk', is_family: true }]);
      const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31. C2 45.77.12.32.', createdByToken: 'ana', items: [accepted('1', '45.77.12.31'), accepted('2', '45.77.12.32')] }));

      // Another writer got there first with the second indicator's id and version, another content:
      // the store refuses that indicator, after the first indicator and its SCO would have gone in.
      ids.next();
      const secondIndicator = `indicator--${ids.next()}`;
      ids.restart();
      const conflicting: StixObject = {
        type: 'indicator',
        spec_version: '2.1',
        id: secondIndicator,
        created: NOW.toISOString(),
        modified: NOW.toISOString(),
        pattern: "[ipv4-addr:value = '203.0.113.1']",
        pattern_type: 'stix',
        valid_from: NOW.toISOString(),
      };
      await store.addObjects('elsewhere', [conflicting]);
      const before = await entries(deps, 'feed');

      const request = { draftId: id, collection: 'feed', tlp: 'green', analyst: 'ana', viewer: ANA };
      await assert.rejects(publishDraft(deps, request), (error: unknown) => {
        assert.ok(error instanceof EntenteError);
        assert.equal(error.code, 'ENT_DRAFT_PUBLICATION_REJECTED');
        assert.match(error.message, /refused 1 object/);
        return true;
      });
      assert.deepEqual(await entries(deps, 'feed'), before, 'nothing of the publication is stored');
      assert.equal((await requireDraft(deps, id, ANA)).publication, undefined, 'the draft is not published');

      // The conflict is removed (the version is held by no collection any more): the same publication goes through.
      assert.equal(await store.deleteObject('elsewhere', secondIndicator, {}), 1);
      ids.restart();
      const outcome = await publishDraft(deps, request);
      const after = await entries(deps, 'feed');
      assert.equal(after.length, before.length + outcome.objects.length);
      assert.equal(outcome.added, outcome.objects.length);
      assert.ok(after.some((entry) => entry.id === secondIndicator), 'the indicator refused before is published now');
      assert.equal((await requireDraft(deps, id, ANA)).publication?.reportId, outcome.report.id);
    } finally {
      await store.close();
    }
  });
});
