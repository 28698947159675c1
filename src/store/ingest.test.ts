import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indicator } from '../../test/store/object-store.contract.ts';
import { ingest, ingestPrepared } from './ingest.ts';
import { prepareVersion } from './prepared-version.ts';
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

  it('stores nothing and counts nothing accepted when an all-or-nothing request has a rejection', async () => {
    const store = openSqliteObjectStore({ path: ':memory:' });
    try {
      await store.createCollection({ id: 'feed', title: 'Feed' }, new Date());
      await ingest(store, { collectionId: 'feed', objects: [indicator(1), indicator(2)] });
      const request = { collectionId: 'feed', objects: [indicator(1), { ...indicator(2), confidence: 5 }, indicator(3)], allOrNothing: true };
      const result = await ingest(store, request);
      assert.deepEqual([result.accepted, result.duplicate], [0, 0]);
      assert.deepEqual(result.rejected.map((rejection) => [rejection.id, rejection.code]), [[indicator(2).id, 'ENT_OBJECT_VERSION_CONFLICT']]);
      assert.deepEqual(await store.countEntries('feed'), { objects: 2, versions: 2 });
      const prepared = await ingestPrepared(store, { collectionId: 'feed', versions: request.objects.map((object) => prepareVersion(object)), allOrNothing: true });
      assert.deepEqual([prepared.accepted, prepared.rejected.length], [0, 1]);
      assert.deepEqual(await store.countEntries('feed'), { objects: 2, versions: 2 });
    } finally {
      await store.close();
    }
  });
});
