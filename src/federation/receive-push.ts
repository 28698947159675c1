// A TAXII POST by a partner under a circle's agreement (docs/federation.md, "Arrival checks",
// "Sync"): another Entente node (its organisation has pinned keys) pushing what its circle releases
// to us, or a partner's plain TAXII client writing into a circle's collection. Every object goes
// through the arrival checks before it is stored — the accepted ones with their provenance (source
// 'push'), the others held in quarantine — and the TAXII status resource reports each quarantined
// object as a failure whose message names the reason. The checks judge against what the target
// collection holds (loadPageHistory), and what the store refuses node-wide is reported in words that
// name nothing held, so the status says nothing of collections the sender cannot read (docs/
// federation.md, "Whose history"). A plain client is held to the agreement like
// a plain TAXII server pulled from: unsigned objects only where the agreement accepts unsigned input.
// A plain client writing into a collection of no circle keeps the ordinary write path.
import type { FederationStore, NewQuarantineItem, QuarantineReason } from '../store/federation-store.ts';
import type { ObjectStore, StatusDetail, StatusDraft } from '../store/object-store.ts';
import type { StixObject } from '../stix/types.ts';
import { arrivingIdOf, decidePullPage, type PullBasis } from './decide-pull-page.ts';
import { loadKeyDirectory, loadPageHistory, loadSenderStanding } from './load-arrival-context.ts';

/** Whether the sender is an Entente node whose signatures this node checks: its organisation has pinned keys. */
export async function isEntenteSender(store: Pick<FederationStore, 'listPinnedKeys'>, organisationId: string): Promise<boolean> {
  return (await store.listPinnedKeys(organisationId)).length > 0;
}

export interface PushArrival {
  readonly collectionId: string;
  /** The partner organisation the token acts for. */
  readonly sender: string;
  /** An Entente node, whose objects must all be signed, or a plain TAXII client. */
  readonly senderKind: 'entente' | 'plain';
  /** The envelope's objects, as received (not validated yet: the arrival checks do it). */
  readonly items: readonly unknown[];
  /** The TAXII status draft of the request; its validation failures are kept and the quarantined objects added. */
  readonly status: StatusDraft;
  readonly now: Date;
}

export interface PushArrivalDeps {
  readonly store: ObjectStore;
  /** The home organisation, so that this node's own versions coming back through the partner verify as what they are. */
  readonly homeOrganisationId: string | undefined;
}

/**
 * The reasons decided on what the node holds of the id (the arrival history is node-wide,
 * load-arrival-context.ts): their verdicts reach the sender in the words of a store refusal, naming
 * neither the rule nor anything held.
 */
const HISTORY_REASONS: ReadonlySet<QuarantineReason> = new Set(['not-origin', 'content-conflict', 'rollback']);

/**
 * The status failure for a quarantined object: its id (or its place in the envelope) and version, and
 * the reason first in the message — for a reason about the object itself (its form, signature, keys,
 * the agreement). The administrator's quarantine record keeps every detail.
 */
export function quarantineFailure(item: Pick<NewQuarantineItem, 'objectId' | 'version' | 'reason' | 'message'>, place: string): StatusDetail {
  if (HISTORY_REASONS.has(item.reason) && item.objectId !== '') return refusedFailure(item.objectId, item.version);
  return { id: item.objectId === '' ? place : item.objectId, version: item.version, message: `quarantined (${item.reason}): ${item.message}` };
}

/**
 * The status failure for a version the store refused (another content under the same id and
 * version, a version after a revocation, another version of a marking definition). These rules hold
 * node-wide, so what stood in the way may sit in a collection the sender cannot read: the message
 * names neither the rule nor anything held. The quarantine record keeps the details for the
 * administrator (applySyncBatch).
 */
export function refusedFailure(id: string, version: string): StatusDetail {
  return { id, version, message: `quarantined: ${id} version ${version} cannot be stored on this node` };
}

/**
 * Checks and stores one pushed envelope. The checks and the data, provenance and quarantine rows are
 * written in one transaction (applySyncBatch); the status record follows in a second one, through
 * the ordinary add path, where every accepted object is already held (a duplicate, which TAXII
 * counts as a success). A crash between the two leaves the data stored and the status missing: the
 * sender's retry finds duplicates.
 */
export async function receivePush(deps: PushArrivalDeps, arrival: PushArrival): Promise<void> {
  const store = deps.store;
  const circle = await store.getCircleByCollection(arrival.collectionId);
  const sender = { organisationId: arrival.sender, kind: arrival.senderKind };
  // A token outlives its holder's membership: the circle's standing, not the grant, decides. A
  // collection of no circle binds no one (no-agreement, in the general words).
  const standing = circle === undefined ? { peer: sender, terms: undefined } : await loadSenderStanding(store, circle, sender, arrival.now);
  const basis: PullBasis = {
    peer: standing.peer,
    terms: standing.terms,
    defaultTlp: circle?.defaultTlp ?? 'amber',
    directory: await loadKeyDirectory(store, deps.homeOrganisationId),
    now: arrival.now,
  };
  const decision = decidePullPage(arrival.items, basis, await loadPageHistory(store, arrival.items, arrival.collectionId));
  // The partner's own peer link to this collection, when this node has one: provenance names it.
  const link = (await store.listPeers()).find((peer) => peer.organisationId === arrival.sender && peer.localCollectionId === arrival.collectionId);
  const outcome = await store.applySyncBatch({
    collectionId: arrival.collectionId,
    peer: link?.name,
    circleId: circle?.id,
    source: 'push',
    contributorOrganisationId: arrival.sender,
    accepted: decision.accepted,
    quarantined: decision.quarantined,
    receivedAt: arrival.now.toISOString(),
  });

  const failures: StatusDetail[] = [...arrival.status.validationFailures];
  // Items without an id are named by their place in the envelope, in order.
  const unnamed = arrival.items.flatMap((item, index) => (arrivingIdOf(item) === undefined ? [`$.objects[${index}]`] : []));
  for (const item of decision.quarantined) failures.push(quarantineFailure(item, item.objectId === '' ? (unnamed.shift() ?? '$.objects') : item.objectId));
  const stored: StixObject[] = [];
  outcome.outcomes.forEach((added, index) => {
    const arrived = decision.accepted[index];
    if (arrived === undefined) return;
    if (added.kind === 'rejected') {
      failures.push(refusedFailure(added.id, added.version));
    } else {
      stored.push(arrived.object);
    }
  });
  await store.addObjects(arrival.collectionId, stored, { ...arrival.status, validationFailures: failures });
}
