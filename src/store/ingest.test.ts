import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indicator } from '../../test/store/object-store.contract.ts';
import { ingest } from './ingest.ts';
import { openSqliteObjectStore } from './sqlite/sqlite-object-store.ts';

describe('ingest', () => {
  it('counts accepted and duplicate objects and lists rejections with their reasons', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      await store.createCollection({ id: 'feed', title: 'Feed' }, new Date());
      await ingest(store, { collectionId: 'feed', objects: [indicator(1), indicator(2)] });
      const result = await ingest(store, {
        collectionId: 'feed',
        objects: [indicator(1), { ...indicator(2), confidence: 5 }, indicator(3), indicator(4)],
        status: {
          statusId: 'status-1',
          requestTimestamp: '2025-03-01T12:00:00.000Z',
          tokenName: 'cli',
          validationFailures: [{ id: 'indicator--broken', version: '', message: '$.pattern: not a STIX pattern' }],
        },
      });
      assert.equal(result.accepted, 2);
      assert.equal(result.duplicate, 1);
      assert.deepEqual(
        result.rejected.map((rejection) => [rejection.id, rejection.code]),
        [
          ['indicator--broken', 'ENT_OBJECT_INVALID'],
          [indicator(2).id, 'ENT_OBJECT_VERSION_CONFLICT'],
        ],
      );
      assert.equal(result.outcomes.length, 4);
      assert.equal((await store.getStatus('status-1'))?.successCount, 3);
    } finally {
      await store.close();
    }
  });
});
