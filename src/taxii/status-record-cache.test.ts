import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusDetail, StatusRecord, StatusStore } from '../store/object-store.ts';
import { createStatusRecordCache } from './status-record-cache.ts';

function record(id: string, overrides: Partial<StatusRecord> = {}): StatusRecord {
  const successes: StatusDetail[] = [{ id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', version: '2026-01-01T00:00:00.000Z' }];
  return {
    id,
    collectionId: 'c1',
    tokenName: 'reader',
    status: 'complete',
    requestTimestamp: '2026-01-01T00:00:00.000Z',
    totalCount: 1,
    successCount: 1,
    failureCount: 0,
    pendingCount: 0,
    successes,
    failures: [],
    pendings: [],
    ...overrides,
  };
}

/** A store whose records can be added and replaced under the cache, counting lookups. */
function countingStore(): StatusStore & { records: Map<string, StatusRecord>; lookups: string[] } {
  const records = new Map<string, StatusRecord>();
  const lookups: string[] = [];
  return {
    records,
    lookups,
    async getStatus(statusId) {
      lookups.push(statusId);
      return records.get(statusId);
    },
  };
}

describe('createStatusRecordCache', () => {
  it('reads a complete status from the store once, then answers from memory with the same record', async () => {
    const store = countingStore();
    store.records.set('s1', record('s1'));
    const cache = createStatusRecordCache(store);
    const first = await cache.getStatus('s1');
    const second = await cache.getStatus('s1');
    assert.deepEqual(first, record('s1'));
    assert.equal(second, first);
    assert.deepEqual(store.lookups, ['s1']);
  });

  it('keeps no miss: a status written after an unknown id was asked for is found at the next request', async () => {
    const store = countingStore();
    const cache = createStatusRecordCache(store);
    assert.equal(await cache.getStatus('later'), undefined);
    store.records.set('later', record('later'));
    assert.deepEqual(await cache.getStatus('later'), record('later'));
    assert.deepEqual(store.lookups, ['later', 'later']);
  });

  it('keeps no pending status: each request sees what the store has now', async () => {
    const store = countingStore();
    store.records.set('p', record('p', { status: 'pending', pendingCount: 1, successes: [], successCount: 0, pendings: [{ id: 'indicator--1', version: 'v' }] }));
    const cache = createStatusRecordCache(store);
    assert.equal((await cache.getStatus('p'))?.status, 'pending');
    store.records.set('p', record('p'));
    assert.equal((await cache.getStatus('p'))?.status, 'complete');
    assert.equal(store.lookups.length, 2);
  });

  it('holds at most maxEntries records, dropping the least recently used', async () => {
    const store = countingStore();
    for (const id of ['a', 'b', 'c']) store.records.set(id, record(id));
    const cache = createStatusRecordCache(store, { maxEntries: 2 });
    await cache.getStatus('a');
    await cache.getStatus('b');
    await cache.getStatus('a'); // a is now the most recently used
    await cache.getStatus('c'); // evicts b
    store.lookups.length = 0;
    await cache.getStatus('a');
    await cache.getStatus('c');
    assert.deepEqual(store.lookups, []);
    await cache.getStatus('b');
    assert.deepEqual(store.lookups, ['b']);
  });

  it('does not keep a record with more detail rows than maxDetails', async () => {
    const store = countingStore();
    const failures: StatusDetail[] = [{ id: '$.objects[0]', version: '', message: 'not a STIX object' }, { id: '$.objects[1]', version: '', message: 'not a STIX object' }];
    store.records.set('big', record('big', { failures, failureCount: 2, totalCount: 3 }));
    const cache = createStatusRecordCache(store, { maxDetails: 2 });
    await cache.getStatus('big');
    await cache.getStatus('big');
    assert.deepEqual(store.lookups, ['big', 'big']);
  });

  it('keeps nothing when maxEntries is 0', async () => {
    const store = countingStore();
    store.records.set('s', record('s'));
    const cache = createStatusRecordCache(store, { maxEntries: 0 });
    await cache.getStatus('s');
    await cache.getStatus('s');
    assert.equal(store.lookups.length, 2);
  });
});
