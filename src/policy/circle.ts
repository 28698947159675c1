import { err, ok, type Result } from '../errors/result.ts';
import { DocumentReader, POLICY_LIMITS, type PolicyIssue } from './document-reader.ts';
import { TLP_LEVELS, type TlpLevel } from './tlp.ts';

export type CircleKind = 'formal' | 'tacit';
export type CircleRole = 'coordinator' | 'contributor' | 'consumer';
/** `hidden`: a member sees only the coordinators and itself. */
export type MembershipVisibility = 'open' | 'hidden';

export interface CircleMember {
  /** STIX identity id of the member organisation. */
  readonly organisationId: string;
  readonly role: CircleRole;
  readonly joinedAt: string;
  /** The instant the member left; from then on nothing is released to it. */
  readonly leftAt?: string;
  /** Trial members receive CLEAR and GREEN indicators only, until promoted. */
  readonly trial: boolean;
}

/** An alliance: who is in it, for how long, and through which TAXII collection it shares. */
export interface Circle {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly kind: CircleKind;
  readonly visibility: MembershipVisibility;
  readonly collectionId: string;
  /** The level an object without any TLP marking is treated as; never CLEAR. */
  readonly defaultTlp: Exclude<TlpLevel, 'clear'>;
  readonly validFrom: string;
  /** The end of the circle: required for tacit circles; releases stop at this instant. */
  readonly validUntil?: string;
  /** When a formal circle's membership and agreement are to be reviewed (required for formal ones). */
  readonly reviewAt?: string;
  readonly members: readonly CircleMember[];
}

const CIRCLE_FIELDS = [
  'id', 'name', 'description', 'kind', 'visibility', 'collection_id', 'default_tlp',
  'valid_from', 'valid_until', 'review_at', 'members',
] as const;
const MEMBER_FIELDS = ['organisation_id', 'role', 'joined_at', 'left_at', 'trial'] as const;

/**
 * Reads a circle document (snake_case JSON, as exchanged between nodes and over the REST API).
 * Never throws: every problem comes back as an issue with its JSONPath and ENT_POLICY_ code.
 */
export function parseCircle(value: unknown): Result<Circle, PolicyIssue[]> {
  const reader = new DocumentReader();
  const doc = reader.object(value, '$', CIRCLE_FIELDS);
  if (doc === undefined) return err(reader.issues);

  const id = reader.plainId(doc, 'id', '$');
  const name = reader.string(doc, 'name', '$', true);
  const description = reader.string(doc, 'description', '$', false);
  const kind = reader.oneOf(doc, 'kind', '$', ['formal', 'tacit'] as const);
  const visibility = reader.oneOf(doc, 'visibility', '$', ['open', 'hidden'] as const);
  const collectionId = reader.plainId(doc, 'collection_id', '$');
  const defaultTlp = reader.oneOf(doc, 'default_tlp', '$', TLP_LEVELS.filter((level) => level !== 'clear'));
  const validFrom = reader.timestamp(doc, 'valid_from', '$', true);
  const validUntil = reader.timestamp(doc, 'valid_until', '$', false);
  const reviewAt = reader.timestamp(doc, 'review_at', '$', false);

  if (kind === 'tacit' && validUntil === undefined && reader.field(doc, 'valid_until') === undefined) {
    reader.issue('$.valid_until', 'ENT_POLICY_WINDOW', 'a tacit circle must have an end (valid_until)');
  }
  if (kind === 'formal' && reviewAt === undefined && reader.field(doc, 'review_at') === undefined) {
    reader.issue('$.review_at', 'ENT_POLICY_WINDOW', 'a formal circle must have a review date (review_at)');
  }
  if (validFrom !== undefined && validUntil !== undefined && Date.parse(validUntil) <= Date.parse(validFrom)) {
    reader.issue('$.valid_until', 'ENT_POLICY_WINDOW', 'valid_until must be after valid_from');
  }

  const members: CircleMember[] = [];
  const rawMembers = reader.field(doc, 'members');
  if (rawMembers === undefined) {
    reader.issue('$.members', 'ENT_POLICY_MISSING', '"members" is required');
  } else if (!Array.isArray(rawMembers)) {
    reader.issue('$.members', 'ENT_POLICY_WRONG_TYPE', 'expected a list of members');
  } else if (rawMembers.length > POLICY_LIMITS.maxList) {
    reader.issue('$.members', 'ENT_POLICY_TOO_LARGE', `at most ${POLICY_LIMITS.maxList} members`);
  } else {
    const seen = new Set<string>();
    rawMembers.forEach((raw: unknown, index) => {
      const path = `$.members[${index}]`;
      const member = reader.object(raw, path, MEMBER_FIELDS);
      if (member === undefined) return;
      const organisationId = reader.identityId(member, 'organisation_id', path);
      const role = reader.oneOf(member, 'role', path, ['coordinator', 'contributor', 'consumer'] as const);
      const joinedAt = reader.timestamp(member, 'joined_at', path, true);
      const leftAt = reader.timestamp(member, 'left_at', path, false);
      const trial = reader.boolean(member, 'trial', path, false);
      if (joinedAt !== undefined && leftAt !== undefined && Date.parse(leftAt) <= Date.parse(joinedAt)) {
        reader.issue(`${path}.left_at`, 'ENT_POLICY_WINDOW', 'left_at must be after joined_at');
      }
      if (organisationId !== undefined && seen.has(organisationId)) {
        reader.issue(`${path}.organisation_id`, 'ENT_POLICY_DUPLICATE', 'this organisation is already a member');
        return;
      }
      if (organisationId === undefined || role === undefined || joinedAt === undefined) return;
      seen.add(organisationId);
      members.push({ organisationId, role, joinedAt, ...(leftAt === undefined ? {} : { leftAt }), trial });
    });
    if (Array.isArray(rawMembers) && !members.some((member) => member.role === 'coordinator')) {
      reader.issue('$.members', 'ENT_POLICY_NO_COORDINATOR', 'a circle needs at least one coordinator');
    }
  }

  if (
    reader.issues.length > 0 || id === undefined || name === undefined || kind === undefined ||
    visibility === undefined || collectionId === undefined || defaultTlp === undefined || validFrom === undefined
  ) {
    return err(reader.issues);
  }
  return ok({
    id,
    name,
    ...(description === undefined ? {} : { description }),
    kind,
    visibility,
    collectionId,
    defaultTlp: defaultTlp as Circle['defaultTlp'],
    validFrom,
    ...(validUntil === undefined ? {} : { validUntil }),
    ...(reviewAt === undefined ? {} : { reviewAt }),
    members,
  });
}

/** Why a circle does not release anything at an instant, or undefined while it is running. */
export function circleClosedReason(circle: Circle, at: Date): string | undefined {
  const time = at.getTime();
  if (!(time >= Date.parse(circle.validFrom))) return `circle ${circle.id} has not started (valid_from ${circle.validFrom})`;
  if (circle.validUntil !== undefined && !(time < Date.parse(circle.validUntil))) {
    return `circle ${circle.id} ended at ${circle.validUntil}`;
  }
  return undefined;
}

export type MembershipAt =
  | { readonly kind: 'member'; readonly member: CircleMember }
  | { readonly kind: 'not-member'; readonly reason: string };

/**
 * The membership of an organisation at an instant: joined at or before it, not yet left. The
 * window is half-open so that leaving at T stops releases at T exactly.
 */
export function membershipAt(circle: Circle, organisationId: string, at: Date): MembershipAt {
  const member = circle.members.find((candidate) => candidate.organisationId === organisationId);
  const time = at.getTime();
  if (member === undefined) return { kind: 'not-member', reason: `${organisationId} is not a member of circle ${circle.id}` };
  if (!(time >= Date.parse(member.joinedAt))) {
    return { kind: 'not-member', reason: `${organisationId} joins circle ${circle.id} only at ${member.joinedAt}` };
  }
  if (member.leftAt !== undefined && !(time < Date.parse(member.leftAt))) {
    return { kind: 'not-member', reason: `${organisationId} left circle ${circle.id} at ${member.leftAt}` };
  }
  return { kind: 'member', member };
}

/**
 * Organisations a member may know to be in the circle: all of them when open, else coordinators
 * and itself. A coordinator sees everyone: it invites, promotes and ends, and would otherwise learn
 * the membership anyway from the answers to those changes.
 */
export function visibleMembers(circle: Circle, viewerOrganisationId: string): CircleMember[] {
  if (circle.visibility === 'open') return [...circle.members];
  if (circle.members.some((member) => member.organisationId === viewerOrganisationId && member.role === 'coordinator' && member.leftAt === undefined)) {
    return [...circle.members];
  }
  return circle.members.filter(
    (member) => member.role === 'coordinator' || member.organisationId === viewerOrganisationId,
  );
}
