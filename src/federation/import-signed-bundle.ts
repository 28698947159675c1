// `entente import FILE --from ORG`: the objects of a signed bundle that an Entente node of
// organisation ORG exported for this one (federation/signed-bundle.ts) go through the arrival checks
// with the keys pinned for ORG beforehand (`entente key pin`), exactly as a pull from that node
// would: accepted ones are stored with provenance (source 'file'), the rest quarantined.
import { EntenteError } from '../errors/entente-error.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { decidePullPage, type PullBasis } from './decide-pull-page.ts';
import { loadPageHistory, loadSenderStanding } from './load-arrival-context.ts';
import { createKeyDirectory, type PinnedKey } from './node-key.ts';
import { endRotatedKeys, ownKeysAsPinned } from './node-key-lifecycle.ts';
import type { QuarantineReason } from './decide-arrival.ts';
import { decidePeerKeys, type KeyToPin, type KeyWindowEnd, type PeerNodeIdentity } from './peer-input.ts';

/** Objects checked and written per transaction. */
export const SIGNED_IMPORT_PAGE = 1000;

export interface SignedImportDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
}

export interface SignedImportRequest {
  readonly collectionId: string;
  /** The organisation whose node signed the file: the keys pinned for it decide. */
  readonly from: string;
  readonly objects: readonly unknown[];
  /** The file's node identity, when it has one: newer keys vouched for by a pinned key's rotation statement are pinned. */
  readonly header?: PeerNodeIdentity | undefined;
  readonly pageSize?: number;
}

export interface SignedImportCounts {
  readonly added: number;
  readonly duplicates: number;
  readonly quarantined: number;
  /** Quarantined objects per reason (the store's own refusals included). */
  readonly reasons: ReadonlyMap<string, number>;
  /** Keys pinned from the file's header because a key already pinned signed their rotation statement. */
  readonly rotatedKeys: readonly KeyToPin[];
  /** Pinned keys the header shows rotated out: trusted until the end it gives them, no longer. */
  readonly endedKeys: readonly KeyWindowEnd[];
}

/**
 * Checks and stores the objects of a signed bundle from `from`. Refuses (ENT_CLI_USAGE) when no key
 * is pinned for `from` — pin it first, after comparing its fingerprint over a trusted channel — or
 * when the collection carries no circle (nothing would bind the sender to any terms).
 */
export async function importSignedBundle(deps: SignedImportDeps, request: SignedImportRequest): Promise<SignedImportCounts> {
  const store = deps.store;
  const pinnedForSender = await store.listPinnedKeys(request.from);
  if (pinnedForSender.length === 0) {
    throw new EntenteError('ENT_CLI_USAGE', `no key is pinned for ${request.from}; pin its node key first: entente key pin ${request.from} --public-key KEY (compare the fingerprint with the sender's entente key show)`);
  }
  const circle = await store.getCircleByCollection(request.collectionId);
  if (circle === undefined) {
    throw new EntenteError('ENT_CLI_USAGE', `collection ${request.collectionId} carries no circle; import a signed bundle into the collection of the circle you share with ${request.from}`);
  }
  const now = deps.clock();
  // A key the sender rotated to since the last exchange, vouched for by one pinned here, is pinned
  // too (as `peer add` and sync do); keys that nothing pinned vouches for are never trusted from a file.
  // The keys it rotated out then end where the header says they end, before anything in the file is
  // checked: after the overlap, a copy of the old key signs nothing this node accepts.
  let rotatedKeys: KeyToPin[] = [];
  let endedKeys: KeyWindowEnd[] = [];
  if (request.header !== undefined && request.header.organisationId === request.from) {
    const decided = decidePeerKeys(request.header, { fingerprint: undefined, pinned: pinnedForSender, now });
    rotatedKeys = decided.ok ? decided.value.filter((key) => key.source === 'rotation') : [];
    for (const key of rotatedKeys) {
      await store.pinKey({ organisationId: request.from, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil, source: 'rotation', pinnedAt: now.toISOString() });
    }
    endedKeys = await endRotatedKeys(store, request.header);
  }
  // The sender's standing when the file is imported, not when it was written: a file carried out of
  // a member's node before it left is no way around the leaving.
  const standing = await loadSenderStanding(store, circle, { organisationId: request.from, kind: 'entente' }, now);
  const toPinned = (key: { organisationId: string; keyId: string; publicKey: string; validFrom: string; validUntil: string | undefined }): PinnedKey => ({
    organisationId: key.organisationId,
    keyId: key.keyId,
    publicKey: key.publicKey,
    validFrom: key.validFrom,
    validUntil: key.validUntil,
  });
  const own = ownKeysAsPinned(await store.listNodeKeys(), deps.homeOrganisationId);
  const basis: PullBasis = {
    peer: standing.peer,
    terms: standing.terms,
    defaultTlp: circle.defaultTlp,
    directory: createKeyDirectory([...own, ...(await store.listPinnedKeys()).map(toPinned)]),
    now,
  };

  const pageSize = Math.max(1, request.pageSize ?? SIGNED_IMPORT_PAGE);
  let added = 0;
  let duplicates = 0;
  let quarantined = 0;
  const reasons = new Map<string, number>();
  const count = (reason: QuarantineReason | 'revoked'): void => {
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  for (let start = 0; start < request.objects.length; start += pageSize) {
    const page = request.objects.slice(start, start + pageSize);
    const at = deps.clock();
    const decision = decidePullPage(page, { ...basis, now: at }, await loadPageHistory(store, page, request.collectionId));
    const outcome = await store.applySyncBatch({
      collectionId: request.collectionId,
      peer: undefined,
      circleId: circle.id,
      source: 'file',
      contributorOrganisationId: request.from,
      accepted: decision.accepted,
      quarantined: decision.quarantined,
      receivedAt: at.toISOString(),
    });
    for (const item of decision.quarantined) count(item.reason);
    for (const result of outcome.outcomes) {
      if (result.kind === 'added') added += 1;
      else if (result.kind === 'duplicate') duplicates += 1;
      else count(result.code === 'ENT_OBJECT_REVOKED' ? 'revoked' : 'content-conflict');
    }
    quarantined += outcome.quarantined;
  }
  return { added, duplicates, quarantined, reasons, rotatedKeys, endedKeys };
}
