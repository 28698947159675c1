// The I/O edge of the arrival checks for a pull: it reads from the store what decidePullPage needs —
// the peer's binding terms in its circle and the pinned keys once per cycle, what the node holds of
// a page's ids once per page.
import { readHomeOrganisation } from '../bootstrap-node.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { AgreementTerms } from '../policy/agreement.ts';
import type { Circle } from '../policy/circle.ts';
import { decideCircleStanding } from '../policy/decide-circle-release.ts';
import type { PeerRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { latestEntriesIn } from '../store/latest-in-collection.ts';
import { addMarkingRefs } from '../stix/add-marking-refs.ts';
import type { JsonObject } from '../stix/types.ts';
import type { ArrivalPeer } from './decide-arrival.ts';
import { arrivingIdOf, type PageHistory, type PullBasis } from './decide-pull-page.ts';
import { PEER_CLOCK_SKEW_MS } from './sync-timing.ts';
import { createKeyDirectory, type KeyDirectory, type PinnedKey } from './node-key.ts';
import { ownKeysAsPinned } from './node-key-lifecycle.ts';

export type ArrivalStore = Pick<ObjectStore, 'getCircle' | 'getAgreementState' | 'getMeta' | 'listPinnedKeys' | 'listNodeKeys' | 'arrivalHistoryOf' | 'markingDefinitions' | 'listEntries'>;

/** The sender as the arrival checks see it, and the terms that bind it; no terms when it has no standing. */
export interface SenderStanding {
  readonly peer: ArrivalPeer;
  readonly terms: AgreementTerms | undefined;
}

/**
 * The sender's standing in the circle at `now`, as a release or a flash needs it
 * (decideCircleStanding): the circle running, the sender a member, an agreement version accepted by
 * it and accepted or proposed by this node's organisation too (`agreedBy`, as the release gate): in a
 * circle mirrored from its coordinator's node the sender's acceptances are the coordinator's word, and
 * a version this node never accepted — unsigned input accepted, a higher TLP — must not decide what
 * it takes in. `homeOrganisationId` defaults to the one the bootstrap recorded. Terms alone would take objects from a member that left or into a circle that ended — its
 * acceptance binds forever. Without a standing there are no terms, and the reason goes with the
 * peer for the `no-agreement` verdict. What was received while the standing held stays; nothing
 * here looks back. `clockSkewMs` tolerates acceptances stamped by a clock ahead of this one.
 */
export async function loadSenderStanding(
  store: Pick<ArrivalStore, 'getAgreementState' | 'getMeta'>,
  circle: Circle,
  sender: { readonly organisationId: string; readonly kind: ArrivalPeer['kind'] },
  now: Date,
  clockSkewMs = 0,
  homeOrganisationId?: string,
): Promise<SenderStanding> {
  const recorded = homeOrganisationId ?? (await readHomeOrganisation(store))?.id;
  const home = typeof recorded === 'string' ? recorded : undefined;
  // Sectors only narrow what is released to a recipient; the standing reads none.
  const standing = decideCircleStanding({ organisationId: sender.organisationId, sectors: [] }, circle, await store.getAgreementState(circle.id), now, clockSkewMs, home);
  if (standing.kind === 'bound') return { peer: { organisationId: sender.organisationId, kind: sender.kind }, terms: standing.agreement.terms };
  return { peer: { organisationId: sender.organisationId, kind: sender.kind, noStanding: standing.decision.reasons.join('; ') }, terms: undefined };
}

/**
 * What holds for every page of one cycle: the peer's circle, the terms that bind the peer's
 * organisation in it now (its standing: loadSenderStanding), and the key directory (every pinned
 * key, plus this node's own public keys so that its own objects coming back through a peer verify
 * as what they are).
 */
export async function loadPullBasis(
  store: ArrivalStore,
  peer: PeerRecord,
  homeOrganisationId: string,
  now: Date,
): Promise<{ readonly basis: PullBasis; readonly circle: Circle }> {
  const circle = await store.getCircle(peer.circleId);
  if (circle === undefined) {
    throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `Peer ${peer.name} belongs to circle ${peer.circleId}, which this node no longer has; remove the peer or mirror the circle again`, {
      peer: peer.name,
      circleId: peer.circleId,
    });
  }
  // The peer's acceptance may be stamped by a clock ahead of this one (a mirrored circle).
  const standing = await loadSenderStanding(store, circle, peer, now, PEER_CLOCK_SKEW_MS, homeOrganisationId);
  return {
    circle,
    basis: {
      // decidePullPage hands this peer to decideArrival as it is, the reason for no standing with it.
      peer: standing.peer,
      terms: standing.terms,
      defaultTlp: circle.defaultTlp,
      directory: await loadKeyDirectory(store, homeOrganisationId),
      now,
      homeOrganisationId,
    },
  };
}

/**
 * What the node holds of the page's ids — stored versions and origin signers, read node-wide — and
 * of the marking definitions they refer to, those the target collection holds, in two batched reads
 * (arrivalHistoryOf reads the first two for the held ids only) and a third when the node holds a
 * definition referred to.
 *
 * Why the node for the history: an object id has one history on this node. Judged against the target
 * collection only, a partner could store in its own circle's collection a version of an id another
 * organisation originated — older, newer, or revoked — and every reader that is node-wide by nature
 * would act on it: who may recall the id, which version the matcher compiles, what the store refuses
 * after a revocation, the home organisation's identity. The price is that the verdict depends on what
 * collections the writer cannot read hold: receive-push words every verdict that reads this history
 * alike and names nothing held (docs/federation.md, "Whose history"), so a writer learns at most that
 * a version it sent of an id it already knows cannot be stored here.
 */
export async function loadPageHistory(store: ArrivalStore, objects: readonly unknown[], collectionId: string): Promise<PageHistory> {
  // Loops, not map/filter/flatMap: no array per object (a sync reads a million of them).
  const idSet = new Set<string>();
  const markingSet = new Set<string>();
  for (const value of objects) {
    const id = arrivingIdOf(value);
    if (id !== undefined) idSet.add(id);
    addMarkingRefs(value, markingSet);
  }
  const ids = [...idSet];
  const markingIds = [...markingSet];
  const [{ versions, originSigners }, markingDefinitions] = await Promise.all([store.arrivalHistoryOf(ids), store.markingDefinitions(markingIds)]);
  return { versions, originSigners, markingDefinitions: await heldIn(store, collectionId, markingDefinitions) };
}

/**
 * The marking definitions of those the target collection holds. A definition held only elsewhere
 * would raise an arrival's TLP above the ceiling — and the quarantine would tell the writer that the
 * node holds it, and at which level. Unresolved there, the reference counts as a marking the
 * collection does not know (the release decision withholds what it cannot read).
 */
async function heldIn(store: ArrivalStore, collectionId: string, definitions: Map<string, JsonObject>): Promise<Map<string, JsonObject>> {
  if (definitions.size === 0) return definitions;
  const inCollection = await latestEntriesIn(store, collectionId, [...definitions.keys()]);
  if (inCollection.size === definitions.size) return definitions;
  const held = new Map<string, JsonObject>();
  for (const [id, definition] of definitions) if (inCollection.has(id)) held.set(id, definition);
  return held;
}

/**
 * Every key pinned here, and this node's own public keys (a version this node signed may come back
 * through a relay); without a home organisation, the pinned keys only.
 */
export async function loadKeyDirectory(store: Pick<ObjectStore, 'listPinnedKeys' | 'listNodeKeys'>, homeOrganisationId: string | undefined): Promise<KeyDirectory> {
  const window = (key: { keyId: string; publicKey: string; validFrom: string; validUntil: string | undefined }) => ({
    keyId: key.keyId,
    publicKey: key.publicKey,
    validFrom: key.validFrom,
    validUntil: key.validUntil,
  });
  const pinned: PinnedKey[] = (await store.listPinnedKeys()).map((key) => ({ organisationId: key.organisationId, ...window(key) }));
  const own: PinnedKey[] = homeOrganisationId === undefined ? [] : ownKeysAsPinned(await store.listNodeKeys(), homeOrganisationId);
  return createKeyDirectory([...own, ...pinned]);
}
