import type { StixObject } from '../stix/types.ts';
import type { AgreementState } from './agreement.ts';
import type { Circle } from './circle.ts';
import {
  decideCircleReleaseFor,
  decideCircleStanding,
  revealedReferenceRefusal,
  revealsReferences,
  type CircleReleaseDecision,
  type CircleStanding,
  type ReferenceLookup,
  type ReleaseSubjectWithObject,
} from './decide-circle-release.ts';
import type { Recipient } from './recipient.ts';
import { canReadCollection } from './recipient.ts';

/** One object version about to leave the node: its identity, and its JSON when the circle rules must read it. */
export interface ReleaseSubject {
  readonly id: string;
  readonly type: string;
  readonly version: string;
  readonly object?: StixObject;
  readonly markingDefinitions?: ReleaseSubjectWithObject['markingDefinitions'];
  readonly receivedVia?: ReleaseSubjectWithObject['receivedVia'];
  readonly secondHand?: ReleaseSubjectWithObject['secondHand'];
  readonly contributors?: ReleaseSubjectWithObject['contributors'];
}

/** What the circle rules need besides the object: the circle, its agreement state, and references. */
export interface CircleChannel {
  readonly circle: Circle;
  readonly agreements: AgreementState;
  /** Sectors of the recipient organisation's identity (agreement scope by sector). */
  readonly recipientSectors: readonly string[];
  /** The decision already taken about objects this one refers to (relationships, containers). */
  readonly lookup: ReferenceLookup;
  /**
   * How far ahead of this node's clock an acceptance may be stamped and still bind: set when the
   * agreement state was mirrored from another node (docs/federation.md, clock skew). Default 0.
   */
  readonly agreementClockSkewMs?: number;
  /**
   * This node's organisation, which releases: the recipient is bound only by a version it accepted
   * or proposed too (bindingAgreement, `agreedBy`). Absent: the recipient's own acceptance alone.
   */
  readonly releasingOrganisationId?: string;
}

/** The channel a release travels through: a collection, and the circle it carries if any. */
export interface ReleaseChannel {
  readonly collectionId: string;
  readonly circle?: CircleChannel;
}

export type ReleaseDecision = CircleReleaseDecision;

/**
 * The one release decision: may this object version go to this recipient through this channel at
 * this time — whole, redacted, or not at all — and why. Every read path (TAXII objects, manifest,
 * versions, object by id, status; search; export) reaches it through the release gate
 * (src/release); nothing else decides. Pure: no I/O, no clock.
 *
 * 1. A read grant on the collection is needed by everyone.
 * 2. The home organisation's own users (and administrators) read its store under their grants: the
 *    node holds the data for them. Releases to them are not releases to another party.
 * 3. Any other organisation receives only through a circle: the collection must carry one, and the
 *    circle rules (./decide-circle-release.ts, ./README.md) decide — membership, agreement,
 *    scope, TLP 2.0, recipients and weakness markings, granular redaction, references.
 * Each step can only narrow what the previous one allowed.
 */
export function decideRelease(subject: ReleaseSubject, recipient: Recipient, channel: ReleaseChannel, at: Date): ReleaseDecision {
  return prepareRelease(recipient, channel, at)(subject, channel.circle?.lookup ?? (() => undefined));
}

/** A channel before the decisions about referenced objects are known (they come with each subject). */
export interface PreparedChannel {
  readonly collectionId: string;
  readonly circle?: Omit<CircleChannel, 'lookup'>;
}

/**
 * decideRelease for one recipient, channel and instant, asked about one subject at a time; `standing`
 * is the circle standing it decides under (absent when no circle rules apply), for callers that ask
 * it more (the gate: whether rule 3a holds any member back) without working it out again.
 */
export type PreparedRelease = ((subject: ReleaseSubject, lookup: ReferenceLookup) => ReleaseDecision) & { readonly standing?: CircleStanding };

/**
 * decideRelease with the work that depends only on the recipient, the channel and the instant done
 * once (steps 1 and 2, and the circle's window, membership and binding agreement): for a page of
 * objects going to one recipient. Each subject still passes every rule; the answer is exactly
 * decideRelease's for the same arguments.
 */
export function prepareRelease(recipient: Recipient, channel: PreparedChannel, at: Date): PreparedRelease {
  const settled = decideForEveryObject(recipient, channel.collectionId);
  if (settled !== undefined) return () => settled;
  const circle = channel.circle;
  if (circle === undefined) {
    const refused: ReleaseDecision = {
      kind: 'withhold',
      reasons: [`circle: ${recipient.organisationId} is a partner organisation and receives only through circles; collection ${channel.collectionId} carries none`],
    };
    return () => refused;
  }
  const standing = decideCircleStanding(
    { organisationId: recipient.organisationId, sectors: circle.recipientSectors },
    circle.circle,
    circle.agreements,
    at,
    circle.agreementClockSkewMs ?? 0,
    circle.releasingOrganisationId,
  );
  const noDefinitions = new Map<string, never>();
  const decide = (subject: ReleaseSubject, lookup: ReferenceLookup): ReleaseDecision => {
    if (subject.object === undefined) {
      return { kind: 'withhold', reasons: ['object: the circle rules need the object itself'] };
    }
    return decideCircleReleaseFor(
      {
        object: subject.object,
        markingDefinitions: subject.markingDefinitions ?? noDefinitions,
        ...(subject.receivedVia === undefined ? {} : { receivedVia: subject.receivedVia }),
        ...(subject.secondHand === true ? { secondHand: true } : {}),
        ...(subject.contributors === undefined ? {} : { contributors: subject.contributors }),
      },
      standing,
      lookup,
    );
  };
  return Object.assign(decide, { standing });
}

/**
 * Steps 1 and 2 of decideRelease, which depend on the recipient and the collection alone: the
 * decision for every object of the collection when they settle it, undefined when each object must be
 * decided by the circle rules. A reader that gets 'share' here may be given whole pages without
 * their objects being read (src/release/open-release-gate.ts).
 */
export function decideForEveryObject(recipient: Recipient, collectionId: string): ReleaseDecision | undefined {
  if (!canReadCollection(recipient, collectionId)) {
    return { kind: 'withhold', reasons: [`grant: ${recipient.name} has no read grant on collection ${collectionId}`] };
  }
  if (recipient.actsForHome) {
    return { kind: 'share', reasons: [recipient.admin ? 'home: node administrator' : `home: read grant on collection ${collectionId}`], agreementVersion: 0 };
  }
  return undefined;
}

/**
 * Step 2 in the home sightings collection (bootstrap-node.ts ensureHomeSightingsCollection): the
 * home's own readers do not read it whole under their grant. It holds the home's sightings of
 * indicators only circles' collections hold, each naming its indicator (`sighting_of_ref`) with
 * evidence holding the value the home matched: read whole, a grant on it alone would give a reader
 * the id and the value of every indicator matched — a TLP:RED one of a circle it may not read
 * among them — and tell it what the home saw of each. So the rule the circle rules apply to
 * relationships, sightings and observed-data applies here too (decide-circle-release.ts
 * revealedReferenceRefusal): a sighting goes to the reader only when what it names is released to it
 * (`lookup`: for a home reader, the indicator as a collection it may read holds it — the gate says
 * which version counts). Its evidence (observed-data and observables, which name no indicator) goes
 * only with a sighting released to the reader (`evidenceOfReleased`); objects that are neither a
 * sighting nor its evidence have no business there and go to no one but administrators.
 * Administrators read every collection, every indicator with it: the collection whole.
 * Unchanged for partners: the collection carries no circle, so step 3 gives them nothing.
 */
export function decideHomeSightingsRelease(
  subject: ReleaseSubject,
  recipient: Recipient,
  collectionId: string,
  lookup: ReferenceLookup,
  evidenceOfReleased: (id: string) => boolean,
): ReleaseDecision {
  const settled = decideForEveryObject(recipient, collectionId);
  if (settled === undefined) {
    return { kind: 'withhold', reasons: [`circle: ${recipient.organisationId} is a partner organisation and receives only through circles; the home sightings collection carries none`] };
  }
  if (settled.kind !== 'share' || recipient.admin) return settled;
  const object = subject.object;
  if (object === undefined) return { kind: 'withhold', reasons: ['object: the home sightings rule needs the object itself'] };
  if (revealsReferences(object.type)) {
    const refusal = revealedReferenceRefusal(object, lookup, recipient.organisationId);
    if (refusal !== undefined) return { kind: 'withhold', reasons: [refusal] };
  }
  if (object.type !== 'sighting' && !evidenceOfReleased(object.id)) {
    return { kind: 'withhold', reasons: [`home-sightings: ${object.id} is released only as the evidence of a sighting released to ${recipient.name}`] };
  }
  return { kind: 'share', reasons: [`home-sightings: read grant on collection ${collectionId}, and every object it reveals is released to ${recipient.name}`], agreementVersion: 0 };
}
