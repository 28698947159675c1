import type { ObjectStore, StoredEntry } from './object-store.ts';

/**
 * The latest version that one collection holds of each of `ids`, by id, read page by page. What a
 * collection holds, not the node: the caller decides for that collection's readers, and another
 * collection's copy (another content of an SCO, a version a reader may not see) must not stand in.
 */
export async function latestEntriesIn(store: Pick<ObjectStore, 'listEntries'>, collectionId: string, ids: readonly string[]): Promise<Map<string, StoredEntry>> {
  const found = new Map<string, StoredEntry>();
  if (ids.length === 0) return found;
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(collectionId, { ids, versions: [{ kind: 'last' }] }, { limit: 500, ...(after === undefined ? {} : { after }) });
    for (const entry of page.entries) found.set(entry.id, entry);
    const last = page.entries.at(-1);
    if (!page.more || last === undefined) return found;
    after = last.dateAdded;
  }
}
