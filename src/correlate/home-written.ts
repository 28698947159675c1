import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import { versionKey } from '../store/object-store.ts';

export type HomeWrittenStore = Pick<ObjectStore, 'contributionsOfEntries' | 'homeOriginalsIn'>;

/**
 * For each entry a collection listed, in order: whether the home organisation wrote it there — no
 * partner contributed it to that collection, and the version is the home's own original (a write of
 * the home's stored it before any partner sent it: a home token's TAXII POST, the operator's import,
 * `entente match`; store.homeOriginalsIn). What a partner contributed (a TAXII POST, a push, a pull,
 * a signed bundle), here or first elsewhere, is not, whatever created_by_ref it carries: anyone can
 * write that. At most two store calls for the whole page, whatever its size.
 */
export async function homeWrittenIn(store: HomeWrittenStore, collectionId: string, entries: readonly StoredEntry[]): Promise<boolean[]> {
  if (entries.length === 0) return [];
  const contributions = await store.contributionsOfEntries(collectionId, entries);
  const contributedHere = (entry: StoredEntry): boolean =>
    (contributions.get(versionKey(entry.id, entry.version)) ?? []).some((contribution) => contribution.collectionId === collectionId);
  const unsent = entries.filter((entry) => !contributedHere(entry));
  if (unsent.length === 0) return entries.map(() => false);
  const originals = await store.homeOriginalsIn(unsent.map((entry) => ({ id: entry.id, version: entry.version })));
  const home = new Set(unsent.filter((_entry, index) => originals[index] === true));
  return entries.map((entry) => home.has(entry));
}
