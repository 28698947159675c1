// Who a flash may go to, and whether it may name its indicator to them (docs/federation.md, "Flash
// messages and recalls"). A flash is a release like any other: it reaches a member only under the
// standing the release decision gives that member in the circle (circle window, membership, a binding
// agreement — decideCircleStanding, the same rules the release gate applies before any object, the
// agreement one this node's organisation accepted or proposed too), and
// the id of the indicator it names goes only to members the release gate would give that indicator.
// Its text is the sending organisation's contribution, so rule 3a applies to it as to a version: a
// member that joined after this organisation last accepted terms (and it no coordinator) gets nothing.
// Decided again at every delivery attempt, so that a retry does not outlive a member's leaving.
// A flash received is held to the same standing (flashSenderRefusal): it interrupts the duty officers
// here, a channel a member bound by no agreement, or any member of an ended circle, is not owed.
import { decideCircleStanding, type CircleStanding } from '../policy/decide-circle-release.ts';
import { membershipAt, type Circle } from '../policy/circle.ts';
import type { Recipient } from '../policy/recipient.ts';
import { openReleaseGate } from '../release/open-release-gate.ts';
import type { AgreementState } from '../policy/agreement.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { readHomeOrganisation } from '../bootstrap-node.ts';
import { PEER_CLOCK_SKEW_MS } from './sync-timing.ts';

export type FlashAddressee =
  /** agreementVersion: the version of the terms that binds the member (for the audit log). */
  | { readonly kind: 'eligible'; readonly organisationId: string; readonly indicatorReleased: boolean; readonly agreementVersion: number }
  | { readonly kind: 'not-eligible'; readonly organisationId: string; readonly reason: string };

/** The member as the release gate sees a partner reading the circle's collection. */
function memberAsRecipient(organisationId: string, collectionId: string): Recipient {
  return { name: `flash:${organisationId}`, organisationId, admin: false, actsForHome: false, grants: [{ collectionId, read: true, write: false }] };
}

/**
 * The addressees of a flash at `at`: the organisations named in `only` (a retry: whatever they are
 * now), else every member of the circle at `at` other than the home organisation (a member that
 * left or has not joined is no addressee at all). Each is eligible when the circle standing binds
 * it; the indicator is released to it when the release gate (no audit: nothing of the object
 * leaves, only its id) would share or redact the indicator's latest version in the collection.
 */
export async function flashAddressees(
  store: ObjectStore,
  circle: Circle,
  homeOrganisationId: string,
  indicatorId: string | undefined,
  at: Date,
  only?: readonly string[],
): Promise<FlashAddressee[]> {
  const candidates =
    only === undefined
      ? circle.members
          .filter((member) => member.organisationId !== homeOrganisationId && membershipAt(circle, member.organisationId, at).kind === 'member')
          .map((member) => member.organisationId)
      : only.filter((organisationId) => organisationId !== homeOrganisationId);
  const agreements = await store.getAgreementState(circle.id);
  const indicator =
    indicatorId === undefined
      ? undefined
      : (await store.listEntries(circle.collectionId, { ids: [indicatorId], versions: [{ kind: 'last' }] }, { limit: 1 })).entries[0];
  return Promise.all(
    [...new Set(candidates)].map(async (organisationId): Promise<FlashAddressee> => {
      const standing = await standingOf(store, circle, agreements, organisationId, at, homeOrganisationId);
      if (standing.kind === 'refused') return { kind: 'not-eligible', organisationId, reason: standing.decision.reasons.join('; ') };
      // The flash is this organisation's contribution to the circle: rule 3a holds it like any version.
      const newcomer = standing.contributorRefusal(homeOrganisationId);
      if (newcomer !== undefined) return { kind: 'not-eligible', organisationId, reason: newcomer };
      const agreementVersion = standing.agreement.version;
      if (indicatorId === undefined) return { kind: 'eligible', organisationId, indicatorReleased: false, agreementVersion };
      // An indicator the collection no longer holds (revoked, deleted) is named to nobody.
      if (indicator === undefined) return { kind: 'eligible', organisationId, indicatorReleased: false, agreementVersion };
      const gate = await openReleaseGate(store, memberAsRecipient(organisationId, circle.collectionId), circle.collectionId, at, {
        audit: false,
        agreementClockSkewMs: PEER_CLOCK_SKEW_MS,
      });
      const decision = await gate.decide(indicator);
      return { kind: 'eligible', organisationId, indicatorReleased: decision.kind !== 'withhold', agreementVersion };
    }),
  );
}

/**
 * The standing the circle gives the organisation at `at` (decideCircleStanding), under terms this
 * node's organisation (`home`) accepted or proposed too, as the release gate decides: a version only
 * the member accepted — in a mirrored circle, the coordinator's word — neither makes it an addressee
 * nor lets it interrupt the duty officers here.
 */
async function standingOf(store: ObjectStore, circle: Circle, agreements: AgreementState, organisationId: string, at: Date, home: string | undefined): Promise<CircleStanding> {
  const sectors = (await store.getOrganisation(organisationId))?.sectors ?? [];
  return decideCircleStanding({ organisationId, sectors }, circle, agreements, at, PEER_CLOCK_SKEW_MS, home);
}

/**
 * Why a flash from `sender` in the circle is refused at `at`: the standing a flash sent from here would
 * need to reach it (circle running, member, a binding agreement version); undefined when it has it.
 */
export async function flashSenderRefusal(store: ObjectStore, circle: Circle, sender: string, at: Date): Promise<string | undefined> {
  // This node's organisation as the bootstrap recorded it, as the release gate reads it.
  const home = (await readHomeOrganisation(store))?.id;
  const standing = await standingOf(store, circle, await store.getAgreementState(circle.id), sender, at, typeof home === 'string' ? home : undefined);
  return standing.kind === 'refused' ? standing.decision.reasons.join('; ') : undefined;
}
