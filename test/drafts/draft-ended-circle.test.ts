// Nothing more is published to a circle once it has ended, whichever way the publisher names it: by
// the circle (--circle) or by the circle's collection (--collection). The draft stays unpublished.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { publishDraft, requireDraft, type DraftDeps } from '../../src/drafts/draft-operations.ts';
import { ACCEPTED_BY_ANA, ipv4Item, newDraft } from './draft-kit.ts';

const HOME = 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d';
const ENDED = '2026-11-01T00:00:00.000Z';
const NOW = new Date('2026-11-23T03:00:00.000Z');

describe('publishing a draft to a circle that has ended', () => {
  for (const by of ['circle', 'collection'] as const) {
    it(`is refused with ENT_CIRCLE_ENDED when the target is named by its ${by}`, async () => {
      const store = openSqliteObjectStore({ path: ':memory:', clock: () => NOW });
      try {
        await store.createCollection({ id: 'wide-feed', title: 'Wide' }, new Date('2026-01-01T00:00:00.000Z'));
        await store.createCircle({
          id: 'wide', name: 'Wide', kind: 'tacit', visibility: 'open', collectionId: 'wide-feed', defaultTlp: 'amber',
          validFrom: '2026-01-01T00:00:00.000Z', validUntil: ENDED,
          members: [{ organisationId: HOME, role: 'coordinator', joinedAt: '2026-01-01T00:00:00.000Z', trial: false }],
        }, new Date('2026-01-01T00:00:00.000Z'));
        const { id } = await store.createDraft(newDraft({ text: 'C2 45.77.12.31.', items: [ipv4Item('1', '45.77.12.31', ACCEPTED_BY_ANA)] }));
        const deps: DraftDeps = { store, clock: () => NOW, randomUuid: () => crypto.randomUUID(), homeOrganisationId: HOME };
        const target = by === 'circle' ? { circle: 'wide' } : { collection: 'wide-feed' };
        await assert.rejects(publishDraft(deps, { draftId: id, ...target, tlp: 'amber', analyst: 'ana', viewer: 'operator' }), (error: unknown) => {
          assert.equal((error as { code?: string }).code, 'ENT_CIRCLE_ENDED');
          assert.match((error as Error).message, /circle wide ended at 2026-11-01/);
          return true;
        });
        assert.equal((await requireDraft(deps, id, 'operator')).publication, undefined);
        assert.equal((await store.listEntries('wide-feed', {}, { limit: 10 })).entries.length, 0, 'nothing was stored');
      } finally {
        await store.close();
      }
    });
  }
});
