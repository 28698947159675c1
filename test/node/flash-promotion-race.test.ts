import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Circle } from '../../src/policy/circle.ts';
import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { raceProcesses } from './racing-processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'entente-flash-promotion-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOME = 'identity--0a000000-0000-4000-8000-000000000001';
const FLASH = '11111111-2222-4333-8444-555555555555';
const CREATED = new Date('2026-01-01T00:00:00Z');
const RACER = join(import.meta.dirname, 'flash-promotion-racer.ts');

interface Promoted {
  readonly noteId: string;
  readonly created: boolean;
}

// `entente flash promote` run twice at once on one flash (two duty officers, or the command line
// beside the node's REST call): the test holds the write lock while both set off, so each reads that
// the flash is not promoted yet before either can write.
describe('two promotions of one flash at once', () => {
  it('store one note, the second answering with the first\'s as a promotion run again does', async () => {
    const path = join(dir, 'store.db');
    const store = openSqliteObjectStore({ path });
    await store.createCollection({ id: 'alpha', title: 'alpha' }, CREATED);
    await store.createCircle({
      id: 'alpha', name: 'alpha', kind: 'formal', visibility: 'open', collectionId: 'alpha', defaultTlp: 'amber',
      validFrom: CREATED.toISOString(), reviewAt: '2027-01-01T00:00:00.000Z',
      members: [{ organisationId: HOME, role: 'coordinator', joinedAt: CREATED.toISOString(), trial: false }],
    } as Circle, CREATED);
    await store.addFlash({
      id: FLASH, circleId: 'alpha', direction: 'sent', senderOrganisationId: HOME, text: 'Second wave tonight', indicatorId: undefined,
      sentAt: CREATED.toISOString(), signedJson: '{}', receivedAt: undefined, acknowledged: undefined, receipts: [],
    });
    await store.close();

    const promoted = await raceProcesses<Promoted>(path, RACER, [path, HOME, FLASH], 2);

    const reopened = openSqliteObjectStore({ path });
    try {
      const notes = (await reopened.listEntries('alpha', {}, { limit: 10 })).entries.filter((entry) => entry.id.startsWith('note--'));
      assert.deepEqual(notes.map((entry) => entry.id), [promoted[0]?.noteId], 'one note in the collection, the one both answered with');
      assert.equal(promoted[1]?.noteId, promoted[0]?.noteId);
      assert.deepEqual(promoted.map((each) => each.created).sort(), [false, true], 'one made the note, the other found it');
      assert.equal(await reopened.getMeta(`flash-promoted:${FLASH}`), promoted[0]?.noteId);
    } finally {
      await reopened.close();
    }
  });
});
