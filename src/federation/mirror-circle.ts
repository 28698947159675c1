// A member's node mirrors a circle from a peer that coordinates it: the circle (same id, members as
// the coordinator shows them), its agreement versions and the other members' acceptances the member
// may see, and the keys of the members it may see (pinned with source 'circle'). `entente peer add …
// --circle C` does it when C is new here; every sync cycle with a coordinator peer refreshes it. The
// home organisation's own acceptances are never taken from the view (coordinator-link.ts records
// them), and a refresh only ever narrows the circle. A member the view shows as left is recalled
// here, under the recall rule, what this node released to it (as a leave on a coordinator's node
// queues there what that node released).
import { isDeepStrictEqual } from 'node:util';
import { queueRecallsFor } from '../circles/circle-operations.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { AgreementAcceptance, AgreementState } from '../policy/agreement.ts';
import { membershipAt, type Circle, type CircleMember } from '../policy/circle.ts';
import { stricterOf } from '../policy/tlp.ts';
import type { PinnedKeyRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { parseCircleView, type CircleView } from './parse-circle-view.ts';

export interface MirrorDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
}

export interface MirrorOutcome {
  readonly circleId: string;
  /** The circle was new here (and its collection too, when that did not exist). */
  readonly created: boolean;
  readonly collectionCreated: boolean;
  readonly agreementsAdded: number;
  readonly acceptancesAdded: number;
  readonly keysPinned: number;
  /** Agreement versions the coordinator shows with other terms than this node holds: kept as held (versions are never replaced). */
  readonly conflictingVersions: readonly number[];
  /** Members that left here, which the view lists as members again: kept gone (a member that left never re-joins). */
  readonly rejoinsRefused: readonly string[];
  /** Recall notices queued here for what this node released to members the view shows as left (under the recall rule). */
  readonly recallsQueued: number;
}

/** Reads the circle as the peer shows it to this node's organisation. */
export async function fetchCircleView(client: TaxiiClient, circleId: string): Promise<CircleView> {
  const answer = await client.getJson(`/api/circles/${encodeURIComponent(circleId)}`);
  if (answer === undefined) {
    throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `The peer shows no circle ${circleId} to this node's organisation (it does not exist there, or this organisation is not a member)`, { circleId });
  }
  const view = parseCircleView(answer);
  if (!view.ok) throw new EntenteError('ENT_PEER_BAD_RESPONSE', `The peer's circle ${circleId} cannot be read: ${view.error.slice(0, 300)}`, { circleId });
  if (view.value.circle.id !== circleId) throw new EntenteError('ENT_PEER_BAD_RESPONSE', `Asked for circle ${circleId}, the peer answered with circle ${view.value.circle.id.slice(0, 100)}`, { circleId });
  return view.value;
}

/**
 * Whether this node may take the circle from this peer: the peer's organisation coordinates it now,
 * this node's organisation is in it, and the circle is not one this node coordinates itself (its own
 * circle is never overwritten by a copy). Throws with the reason.
 */
export function assertMirrorable(view: CircleView, local: Circle | undefined, peerOrganisationId: string, homeOrganisationId: string, now: Date): void {
  const circleId = view.circle.id;
  const peer = membershipAt(view.circle, peerOrganisationId, now);
  if (peer.kind !== 'member' || peer.member.role !== 'coordinator') {
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `The peer's organisation ${peerOrganisationId} is not a coordinator of circle ${circleId}; only a coordinator's node is mirrored`, { circleId });
  }
  if (!view.circle.members.some((member) => member.organisationId === homeOrganisationId)) {
    throw new EntenteError('ENT_CIRCLE_NOT_MEMBER', `This node's organisation is not a member of circle ${circleId} on the peer; ask its coordinator for an invitation`, { circleId });
  }
  if (local !== undefined && local.members.some((member) => member.organisationId === homeOrganisationId && member.role === 'coordinator')) {
    throw new EntenteError('ENT_CIRCLE_EXISTS', `Circle ${circleId} is coordinated by this node; a copy from a peer never replaces it`, { circleId });
  }
}

/**
 * A coordinator proposes terms rather than accepting them; on its own node it needs no acceptance,
 * since it releases as the home organisation. A member's node, though, decides what it releases to
 * the coordinator and what it takes from it by the terms that bind the coordinator (bindingAgreement).
 * So the mirror records a version a coordinator proposed as that coordinator's acceptance — but only
 * once this node's organisation has accepted that version too, and from that moment: a coordinator
 * must not be able to widen what a member's node releases to it by proposing wider terms alone.
 */
export function proposalsAsAcceptances(view: CircleView, homeOrganisationId: string, homeAcceptances: readonly AgreementAcceptance[]): AgreementAcceptance[] {
  const acceptedHere = new Map<number, string>();
  for (const acceptance of homeAcceptances) {
    if (acceptance.organisationId !== homeOrganisationId) continue;
    const known = acceptedHere.get(acceptance.version);
    if (known === undefined || Date.parse(acceptance.acceptedAt) < Date.parse(known)) acceptedHere.set(acceptance.version, acceptance.acceptedAt);
  }
  return view.agreements
    .filter((agreement) => agreement.proposedBy !== homeOrganisationId && view.circle.members.some((member) => member.organisationId === agreement.proposedBy && member.role === 'coordinator'))
    .flatMap((agreement) => {
      const homeAcceptedAt = acceptedHere.get(agreement.version);
      if (homeAcceptedAt === undefined) return [];
      const acceptedAt = Date.parse(homeAcceptedAt) > Date.parse(agreement.proposedAt) ? homeAcceptedAt : agreement.proposedAt;
      return [{ circleId: view.circle.id, organisationId: agreement.proposedBy, version: agreement.version, acceptedAt }];
    });
}

/** What this node itself asked the coordinator's node for, and it confirmed, recorded with the mirror. */
export interface MirrorConfirmed {
  /** The home organisation's acceptance, as the coordinator's node answered this node's own request to accept (coordinator-link.ts acceptOrForward). */
  readonly homeAcceptance?: { readonly version: number; readonly acceptedAt: string };
}

/**
 * The members as the view shows them, with nobody made a coordinator whom this node does not hold as
 * one: a coordinator holds recall authority and binds itself by proposing, so a peer could otherwise
 * hand those powers to whom it likes. On the first mirror this node holds no circle yet, and the one
 * coordinator it knows of is the peer's organisation, whose coordinating the peer link rests on
 * (assertMirrorable). Demotions are taken. A member that left stays gone, from the instant held
 * here or an earlier one: nobody re-joins on a coordinator's node (inviteMember refuses an
 * organisation that was a member). So a member that left is kept, left, when the view leaves it out
 * (otherwise a view omitting it once, then listing it without left_at, would take it back), and one
 * the view lists without left_at is reported in `rejoinsRefused`.
 */
function trustedMembers(view: CircleView, coordinatorsHere: ReadonlySet<string>, local: Circle | undefined): { members: CircleMember[]; rejoinsRefused: string[] } {
  const rejoinsRefused: string[] = [];
  const members: CircleMember[] = view.circle.members.map((member) => {
    const role = member.role === 'coordinator' && !coordinatorsHere.has(member.organisationId) ? 'contributor' : member.role;
    const leftHere = local?.members.find((held) => held.organisationId === member.organisationId)?.leftAt;
    if (leftHere !== undefined && member.leftAt === undefined) rejoinsRefused.push(member.organisationId);
    const leftAt = leftHere === undefined || (member.leftAt !== undefined && Date.parse(member.leftAt) < Date.parse(leftHere)) ? member.leftAt : leftHere;
    const { leftAt: _viewLeftAt, ...rest } = member;
    return { ...rest, role, ...(leftAt === undefined ? {} : { leftAt }) };
  });
  const listed = new Set(view.circle.members.map((member) => member.organisationId));
  // Kept as held (the role too: a tombstone confers nothing, and a coordinator that left holds no authority).
  const tombstones = (local?.members ?? []).filter((held) => held.leftAt !== undefined && !listed.has(held.organisationId));
  return { members: [...members, ...tombstones], rejoinsRefused };
}

/** node_meta marker: the recalls of what this node released to a member that left a mirrored circle were queued. */
function leaveRecallsMarker(circleId: string, organisationId: string): string {
  return `recalls-queued-left:${circleId}:${organisationId}`;
}

/**
 * Queues, once per member, the recall notices of what this node released through the circle to each
 * member that left by `now` (not this node's own organisation, whose leave goes through its
 * coordinator): the notices circle-operations.ts `leave` queues on the node where the member
 * leaves, by the same rule (queueRecallsFor); the coordinator's node recalls only what it released
 * itself. The marker spares a refresh every cycle from reading the audit again; queueing is
 * idempotent besides (one notice per version).
 */
async function queueRecallsOfLeftMembers(store: ObjectStore, circle: Circle, state: AgreementState, homeOrganisationId: string, now: Date): Promise<number> {
  const deps = { store, clock: () => now, homeOrganisationId };
  let queued = 0;
  for (const member of circle.members) {
    if (member.leftAt === undefined || member.organisationId === homeOrganisationId || Date.parse(member.leftAt) > now.getTime()) continue;
    const marker = leaveRecallsMarker(circle.id, member.organisationId);
    if ((await store.getMeta(marker)) !== undefined) continue;
    const left = [{ organisationId: member.organisationId, at: new Date(member.leftAt) }];
    queued += await queueRecallsFor(deps, circle, state, left, `${member.organisationId} left circle ${circle.id}`, now);
    await store.setMeta(marker, now.toISOString());
  }
  return queued;
}

/**
 * The circle fields a refresh may change, only towards releasing less: no operation on a
 * coordinator's node lowers the default TLP, opens a hidden membership, moves the end later or
 * re-opens an ended circle (circle-lifecycle.ts), so a view that does is not followed there.
 * The start stays as first mirrored: no operation moves it.
 */
function narrowedCircle(local: Circle, view: Circle, now: Date): Pick<Circle, 'defaultTlp' | 'visibility' | 'validFrom' | 'validUntil'> {
  const defaultTlp = stricterOf(local.defaultTlp, view.defaultTlp) === local.defaultTlp ? local.defaultTlp : view.defaultTlp;
  const visibility = local.visibility === 'hidden' ? 'hidden' : view.visibility;
  const localEnd = local.validUntil === undefined ? undefined : Date.parse(local.validUntil);
  const viewEnd = view.validUntil === undefined ? undefined : Date.parse(view.validUntil);
  const endedHere = localEnd !== undefined && localEnd <= now.getTime();
  let validUntil = local.validUntil;
  if (!endedHere && viewEnd !== undefined && (localEnd === undefined || viewEnd < localEnd)) {
    // Never at or before the start: a circle must end after it starts (endCircle does the same).
    validUntil = new Date(Math.max(viewEnd, Date.parse(local.validFrom) + 1)).toISOString();
  }
  return { defaultTlp, visibility, validFrom: local.validFrom, ...(validUntil === undefined ? {} : { validUntil }) };
}

/**
 * Stores a circle view already checked by assertMirrorable. The view is the coordinator's word on
 * the circle and on the other members, never on this node's own organisation: the home's
 * acceptances are those recorded here (`confirmed`, or earlier), whatever the view lists.
 */
export async function storeCircleMirror(deps: MirrorDeps, view: CircleView, peerOrganisationId: string, confirmed: MirrorConfirmed = {}): Promise<MirrorOutcome> {
  const now = deps.clock();
  const { store } = deps;
  const local = await store.getCircle(view.circle.id);
  assertMirrorable(view, local, peerOrganisationId, deps.homeOrganisationId, now);
  let created = false;
  let collectionCreated = false;
  let mirrored: Circle;
  let rejoinsRefused: string[] = [];
  if (local === undefined) {
    const collectionId = view.circle.collectionId;
    const holder = await store.getCircleByCollection(collectionId);
    if (holder !== undefined) {
      throw new EntenteError('ENT_CIRCLE_COLLECTION_TAKEN', `Circle ${view.circle.id} uses collection ${collectionId}, which carries circle ${holder.id} on this node`, { circleId: view.circle.id });
    }
    // A collection this node holds already is its own: the default one, an internal feed, sightings.
    // Named by a coordinator's view, it would carry the circle and release what it holds to the
    // members; a mirrored circle starts on a collection of its own.
    if ((await store.getCollection(collectionId)) !== undefined) {
      throw new EntenteError(
        'ENT_CIRCLE_COLLECTION_TAKEN',
        `Circle ${view.circle.id} uses collection ${collectionId}, which this node holds already as one of its own: a mirrored circle gets a collection of its own; ask the coordinator to rename the circle's collection, or remove the local one if it is empty and unused`,
        { circleId: view.circle.id },
      );
    }
    await store.createCollection({ id: collectionId, title: view.circle.name, description: `Collection of circle ${view.circle.id}, mirrored from its coordinator ${peerOrganisationId}` }, now);
    collectionCreated = true;
    mirrored = { ...view.circle, members: trustedMembers(view, new Set([peerOrganisationId]), undefined).members };
    await store.createCircle(mirrored, now);
    created = true;
  } else {
    // The local collection stays the one the circle already has here.
    const coordinatorsHere = new Set(local.members.filter((member) => member.role === 'coordinator').map((member) => member.organisationId));
    const trusted = trustedMembers(view, coordinatorsHere, local);
    rejoinsRefused = trusted.rejoinsRefused;
    // (narrowedCircle sets the end whenever either side has one.)
    mirrored = { ...view.circle, ...narrowedCircle(local, view.circle, now), collectionId: local.collectionId, members: trusted.members };
    // Written only over the circle it was worked out from (compared in the write's transaction): a
    // leave the command line recorded meanwhile would be undone by members taken from before it.
    if (!isDeepStrictEqual(mirrored, local)) await store.updateCircle(mirrored, now, local);
  }

  const state = await store.getAgreementState(view.circle.id);
  let agreementsAdded = 0;
  const conflictingVersions: number[] = [];
  for (const agreement of view.agreements) {
    const held = state.agreements.find((candidate) => candidate.version === agreement.version);
    if (held === undefined) {
      await store.addAgreement(agreement);
      agreementsAdded += 1;
    } else if (!isDeepStrictEqual(held, agreement)) {
      conflictingVersions.push(agreement.version);
    }
  }
  let acceptancesAdded = 0;
  const home = deps.homeOrganisationId;
  const homeAcceptances = state.acceptances.filter((acceptance) => acceptance.organisationId === home);
  const { homeAcceptance } = confirmed;
  if (homeAcceptance !== undefined && !homeAcceptances.some((held) => held.version === homeAcceptance.version) && view.agreements.some((agreement) => agreement.version === homeAcceptance.version)) {
    const recorded = { circleId: view.circle.id, organisationId: home, version: homeAcceptance.version, acceptedAt: homeAcceptance.acceptedAt };
    await store.addAcceptance(recorded);
    homeAcceptances.push(recorded);
    acceptancesAdded += 1;
  }
  // A coordinator's proposal binds it only where the circle here holds it as a coordinator.
  const others = view.acceptances.filter((acceptance) => acceptance.organisationId !== home);
  for (const acceptance of [...others, ...proposalsAsAcceptances({ ...view, circle: mirrored }, home, homeAcceptances)]) {
    const known = state.acceptances.some((held) => held.organisationId === acceptance.organisationId && held.version === acceptance.version);
    if (known) continue;
    await store.addAcceptance(acceptance);
    acceptancesAdded += 1;
  }

  // Keys of members only, never this node's own organisation's nor the peer's (those come from the
  // peer link and its rotation statements). A coordinator vouches for a member's key only where this
  // node has no key at all for that organisation, only for a member that accepted the terms, and
  // never for a key id this node knows under another organisation or as its own: otherwise a
  // coordinator could give itself a key in the name of any organisation and sign as it. The store
  // decides the first and the last in the transaction that pins (pinFirstKeys): read here before,
  // a key `peer add` pinned meanwhile had the coordinator's pinned beside it.
  const accepted = new Set(others.map((acceptance) => acceptance.organisationId));
  const members = new Set(view.circle.members.map((member) => member.organisationId));
  const vouched = new Map<string, Omit<PinnedKeyRecord, 'organisationId'>[]>();
  for (const { organisationId, ...key } of view.memberKeys) {
    if (!members.has(organisationId) || !accepted.has(organisationId) || organisationId === deps.homeOrganisationId || organisationId === peerOrganisationId) continue;
    vouched.set(organisationId, [...(vouched.get(organisationId) ?? []), { ...key, source: 'circle', pinnedAt: now.toISOString() }]);
  }
  let keysPinned = 0;
  for (const [organisationId, keys] of vouched) keysPinned += await store.pinFirstKeys(organisationId, keys);
  // After the acceptances: the terms that bound a member as it left may be among those just added.
  const recallsQueued = await queueRecallsOfLeftMembers(store, mirrored, await store.getAgreementState(view.circle.id), home, now);
  return { circleId: view.circle.id, created, collectionCreated, agreementsAdded, acceptancesAdded, keysPinned, conflictingVersions, rejoinsRefused, recallsQueued };
}

/** Fetches and stores the circle from a coordinator peer. */
export async function mirrorCircle(deps: MirrorDeps, client: TaxiiClient, circleId: string, peerOrganisationId: string, confirmed: MirrorConfirmed = {}): Promise<MirrorOutcome> {
  return storeCircleMirror(deps, await fetchCircleView(client, circleId), peerOrganisationId, confirmed);
}
