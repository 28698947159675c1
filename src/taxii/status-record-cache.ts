import type { StatusRecord, StatusStore } from '../store/object-store.ts';

/**
 * Keeps recently read status records in memory so that a client polling its status costs no store
 * lookup. Only what cannot change is kept: a *complete* status is final (TAXII 2.1 §4.3.1; the store
 * writes a POST's status in the same transaction as its objects, and nothing updates or deletes a
 * status), so a cached copy is always the stored one. A status not found, or still pending, is
 * never kept: one written later (by this process or another worker) is found at the next request.
 *
 * It holds records, not answers: the route still checks who may see the status and passes every
 * listed object through the release decision on each request.
 *
 * Bounded by `maxEntries` records (least recently used first out) and by `maxDetails` detail rows
 * per record (larger records are read from the store each time): by default at most about 10 MB.
 */
export interface StatusRecordCacheOptions {
  readonly maxEntries?: number;
  readonly maxDetails?: number;
}

export const DEFAULT_STATUS_CACHE_ENTRIES = 512;
export const DEFAULT_STATUS_CACHE_DETAILS = 100;

export function createStatusRecordCache(store: StatusStore, options: StatusRecordCacheOptions = {}): StatusStore {
  const maxEntries = options.maxEntries ?? DEFAULT_STATUS_CACHE_ENTRIES;
  const maxDetails = options.maxDetails ?? DEFAULT_STATUS_CACHE_DETAILS;
  /** Insertion order is recency order: a hit is moved to the end, the first key is evicted. */
  const records = new Map<string, StatusRecord>();

  return {
    async getStatus(statusId) {
      const cached = records.get(statusId);
      if (cached !== undefined) {
        records.delete(statusId);
        records.set(statusId, cached);
        return cached;
      }
      const record = await store.getStatus(statusId);
      if (record === undefined || record.status !== 'complete' || maxEntries <= 0) return record;
      if (record.successes.length + record.failures.length + record.pendings.length > maxDetails) return record;
      records.set(statusId, record);
      if (records.size > maxEntries) {
        const oldest = records.keys().next();
        if (oldest.done !== true) records.delete(oldest.value);
      }
      return record;
    },
  };
}
