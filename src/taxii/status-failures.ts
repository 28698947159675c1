import { canReadCollection, type Recipient } from '../policy/recipient.ts';
import type { ObjectStore, StatusDetail } from '../store/object-store.ts';

/**
 * Whether a status failure is in the TAXII layer's own words, which speak only of the object sent or
 * name nothing held: the validator's and the creator check's (`$.objects[N]…`, describeInvalidItem in
 * post-objects.ts) and the arrival checks' (`quarantined…`, federation/receive-push.ts). Every other
 * failure is a refusal the store decided on what the node holds of the id (one content per id and
 * version, nothing after a revocation, never a second version of a marking definition), whatever the
 * collection. Words not recognised count as the store's: the mistake that costs a reason, not a leak.
 */
function isOwnWords(detail: StatusDetail): boolean {
  const message = detail.message ?? '';
  return message.startsWith('$.objects[') || message.startsWith('quarantined');
}

/** A store refusal for a reader who may not read everything that stood in the way: neither the rule nor anything held. */
export function storeRefusalInGeneralWords(id: string, version: string): StatusDetail {
  return { id, version, message: `Object ${id} version ${version} cannot be stored on this node (an administrator reading this status sees the reason)` };
}

/**
 * The failures of a status as this reader may see them. The store's refusals keep their reason for
 * the administrator, and for a home token that reads every collection now holding the id (none of
 * them can be hidden from it); anyone else gets storeRefusalInGeneralWords, so that the status says
 * nothing of what collections it cannot read hold. Partners always get the general words: they
 * receive only through the release decision, which a collection grant does not stand for. Judged
 * when the status is read, so a copy stored since in a hidden collection hides the reason too.
 * Returns `failures` itself when nothing changes (the status route caches on it).
 */
export async function failuresFor(
  failures: readonly StatusDetail[],
  recipient: Recipient,
  store: Pick<ObjectStore, 'latestEntriesByCollection'>,
): Promise<readonly StatusDetail[]> {
  if (recipient.admin || failures.every(isOwnWords)) return failures;
  const told = recipient.actsForHome ? await heldOnlyWhereReadable(failures.filter((detail) => !isOwnWords(detail)).map((detail) => detail.id), recipient, store) : new Set<string>();
  const seen = failures.map((detail) => (isOwnWords(detail) || told.has(detail.id) ? detail : storeRefusalInGeneralWords(detail.id, detail.version)));
  return seen.every((detail, index) => detail === failures[index]) ? failures : seen;
}

/**
 * The ids that some collection holds and that only collections the recipient reads hold. An id no
 * collection holds any more (what stood in the way was deleted) is not among them: the refusal's
 * reason then speaks of something gone, which may have been anywhere.
 */
async function heldOnlyWhereReadable(ids: readonly string[], recipient: Recipient, store: Pick<ObjectStore, 'latestEntriesByCollection'>): Promise<Set<string>> {
  const held = new Set<string>();
  const hidden = new Set<string>();
  for (const [collectionId, entries] of await store.latestEntriesByCollection([...new Set(ids)])) {
    const readable = canReadCollection(recipient, collectionId);
    for (const id of entries.keys()) (readable ? held : hidden).add(id);
  }
  for (const id of hidden) held.delete(id);
  return held;
}
