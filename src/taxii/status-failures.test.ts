import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { quarantineFailure, refusedFailure } from '../federation/receive-push.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { ObjectStore, StatusDetail, StoredEntry } from '../store/object-store.ts';
import { describeInvalidItem } from './post-objects.ts';
import { failuresFor, storeRefusalInGeneralWords } from './status-failures.ts';

const ID = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';
const V = '2026-01-01T00:00:00.000Z';
const STORE_WORDS: StatusDetail = { id: ID, version: V, message: `Object ${ID} version ${V} is already stored with different content; change "modified" to publish a new version` };

const home = (grants: Recipient['grants'], admin = false): Recipient => ({ name: 'ana', organisationId: 'identity--home', admin, actsForHome: true, grants });
const partner: Recipient = { name: 'p', organisationId: 'identity--partner', admin: false, actsForHome: false, grants: [{ collectionId: 'mine', read: true, write: true }] };
const read = (collectionId: string) => ({ collectionId, read: true, write: true });

/** A store whose collections hold `ID` as listed (collection ids), asked only which collections hold what. */
function holding(...collectionIds: string[]): Pick<ObjectStore, 'latestEntriesByCollection'> & { asked: number } {
  const store = {
    asked: 0,
    latestEntriesByCollection(ids: readonly string[]): Promise<Map<string, Map<string, StoredEntry>>> {
      store.asked += 1;
      const entry = { id: ID, version: V } as StoredEntry;
      return Promise.resolve(new Map(collectionIds.map((collectionId) => [collectionId, new Map(ids.includes(ID) ? [[ID, entry]] : [])])));
    },
  };
  return store;
}

describe('failuresFor: the store\'s refusals only for a reader of every collection holding the id', () => {
  it('keeps the TAXII layer\'s own words for everyone, without asking the store: validation, creator check, arrival checks', async () => {
    const own: StatusDetail[] = [
      describeInvalidItem({ id: ID, modified: V }, 0, ['$.objects[0].pattern: the STIX pattern is invalid']),
      describeInvalidItem({}, 3, ['$.objects[3]: an object needs string "type" and "id" properties']),
      quarantineFailure({ objectId: ID, version: V, reason: 'bad-signature', message: 'the signature does not verify' }, ID),
      quarantineFailure({ objectId: ID, version: V, reason: 'content-conflict', message: 'held elsewhere' }, ID),
      refusedFailure(ID, V),
    ];
    const store = holding('hidden');
    assert.equal(await failuresFor(own, partner, store), own, 'the same list, unchanged');
    assert.equal(await failuresFor(own, home([]), store), own);
    assert.equal(store.asked, 0);
  });

  it("gives the store's words to a home token reading every collection that holds the id, and the general words otherwise", async () => {
    const failures = [STORE_WORDS];
    assert.equal(await failuresFor(failures, home([read('a'), read('b')]), holding('a', 'b')), failures);
    assert.deepEqual(await failuresFor(failures, home([read('a')]), holding('a', 'b')), [storeRefusalInGeneralWords(ID, V)]);
    assert.deepEqual(await failuresFor(failures, home([{ collectionId: 'b', read: false, write: true }, read('a')]), holding('a', 'b')), [storeRefusalInGeneralWords(ID, V)], 'a write grant is not a read');
    assert.deepEqual(await failuresFor(failures, home([read('a')]), holding()), [storeRefusalInGeneralWords(ID, V)], 'what stood in the way is gone: it may have been anywhere');
  });

  it("gives the administrator the store's words, and a partner the general words even where it reads", async () => {
    const failures = [STORE_WORDS];
    assert.equal(await failuresFor(failures, home([], true), holding('hidden')), failures);
    assert.deepEqual(await failuresFor(failures, partner, holding('mine')), [storeRefusalInGeneralWords(ID, V)]);
  });

  it('maps each failure on its own, keeping the order', async () => {
    const own = describeInvalidItem({ id: 'x' }, 1, ['$.objects[1]: bad']);
    assert.deepEqual(await failuresFor([STORE_WORDS, own], home([]), holding('hidden')), [storeRefusalInGeneralWords(ID, V), own]);
  });
});
