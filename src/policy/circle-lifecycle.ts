import { err, ok, type Result } from '../errors/result.ts';
import { circleClosedReason, membershipAt, parseCircle, type Circle, type CircleMember, type CircleRole } from './circle.ts';
import { toCircleDocument } from './circle-documents.ts';

/**
 * Why a change to a circle was refused: an ENT_CIRCLE_* catalogue code, or an ENT_POLICY_* code when
 * the changed circle would no longer be a valid circle document (too many members, an organisation
 * id the document format cannot hold).
 */
export interface CircleChangeRefusal {
  readonly code:
    | 'ENT_CIRCLE_ENDED' | 'ENT_CIRCLE_MEMBER_EXISTS' | 'ENT_CIRCLE_NOT_MEMBER' | 'ENT_CIRCLE_LAST_COORDINATOR'
    | 'ENT_POLICY_TOO_LARGE' | 'ENT_POLICY_CIRCLE_INVALID';
  readonly message: string;
}

type Change = Result<Circle, CircleChangeRefusal>;

function refuse(code: CircleChangeRefusal['code'], message: string): Change {
  return err({ code, message });
}

/**
 * The store keeps circles as documents and reads them back through parseCircle, failing closed on
 * one that does not read. So a change is only made when its result reads back: otherwise a single
 * invitation (the 1001st member, an upper-case identity id) would make the whole circle unreadable.
 */
function checked(next: Circle): Change {
  const parsed = parseCircle(toCircleDocument(next));
  if (parsed.ok) return ok(next);
  const tooLarge = parsed.error.find((issue) => issue.code === 'ENT_POLICY_TOO_LARGE');
  if (tooLarge !== undefined) return refuse('ENT_POLICY_TOO_LARGE', `${tooLarge.path}: ${tooLarge.message}`);
  return refuse('ENT_POLICY_CIRCLE_INVALID', parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
}

function ended(circle: Circle, at: Date): string | undefined {
  return circle.validUntil !== undefined && !(at.getTime() < Date.parse(circle.validUntil)) ? `circle ${circle.id} ended at ${circle.validUntil}` : undefined;
}

export interface Invitation {
  readonly organisationId: string;
  readonly role: CircleRole;
  /** Start small: a trial member receives CLEAR and GREEN indicators only until promoted. */
  readonly trial: boolean;
}

/**
 * Adds a member from `at` on. Membership alone releases nothing: the member must also accept the
 * agreement. An organisation has one membership window per circle, so one that left cannot come
 * back into the same circle (the audit must keep telling when it was in); a new circle is the way.
 */
export function inviteMember(circle: Circle, invitation: Invitation, at: Date): Change {
  const closed = ended(circle, at);
  if (closed !== undefined) return refuse('ENT_CIRCLE_ENDED', `${closed}; nobody can join it`);
  const existing = circle.members.find((member) => member.organisationId === invitation.organisationId);
  if (existing !== undefined) {
    return refuse(
      'ENT_CIRCLE_MEMBER_EXISTS',
      existing.leftAt === undefined
        ? `${invitation.organisationId} is already a member of circle ${circle.id}`
        : `${invitation.organisationId} left circle ${circle.id} at ${existing.leftAt} and cannot rejoin it; create a new circle`,
    );
  }
  const joinedAt = new Date(Math.max(at.getTime(), Date.parse(circle.validFrom))).toISOString();
  const member: CircleMember = { organisationId: invitation.organisationId, role: invitation.role, joinedAt, trial: invitation.trial };
  return checked({ ...circle, members: [...circle.members, member] });
}

/** The member leaves at `at`: releases to it stop at that instant. The last coordinator cannot leave a running circle. */
export function leaveCircle(circle: Circle, organisationId: string, at: Date): Change {
  const membership = membershipAt(circle, organisationId, at);
  if (membership.kind === 'not-member') return refuse('ENT_CIRCLE_NOT_MEMBER', membership.reason);
  const remainingCoordinators = circle.members.filter(
    (member) => member.role === 'coordinator' && member.organisationId !== organisationId && member.leftAt === undefined,
  );
  if (membership.member.role === 'coordinator' && remainingCoordinators.length === 0 && ended(circle, at) === undefined) {
    return refuse('ENT_CIRCLE_LAST_COORDINATOR', `${organisationId} is the last coordinator of circle ${circle.id}; end the circle instead`);
  }
  // A membership window is never empty in the document (left_at must follow joined_at): leaving in
  // the very instant of joining closes it one millisecond later, as endCircle does for the circle.
  const leftAt = new Date(Math.max(at.getTime(), Date.parse(membership.member.joinedAt) + 1)).toISOString();
  return checked({
    ...circle,
    members: circle.members.map((member) => (member.organisationId === organisationId ? { ...member, leftAt } : member)),
  });
}

/** Ends the circle at `at` (never later than an end already set): every release through it stops then. */
export function endCircle(circle: Circle, at: Date): Change {
  const closed = ended(circle, at);
  if (closed !== undefined) return refuse('ENT_CIRCLE_ENDED', `${closed} already`);
  const end = new Date(Math.max(at.getTime(), Date.parse(circle.validFrom) + 1)).toISOString();
  return checked({ ...circle, validUntil: end });
}

/** A trial member becomes a full member (AMBER and other types become possible under the terms). */
export function promoteMember(circle: Circle, organisationId: string, at: Date): Change {
  const closed = circleClosedReason(circle, at);
  if (closed !== undefined && ended(circle, at) !== undefined) return refuse('ENT_CIRCLE_ENDED', closed);
  const membership = membershipAt(circle, organisationId, at);
  if (membership.kind === 'not-member') return refuse('ENT_CIRCLE_NOT_MEMBER', membership.reason);
  return checked({
    ...circle,
    members: circle.members.map((member) => (member.organisationId === organisationId ? { ...member, trial: false } : member)),
  });
}

/** Members that are in the circle at `at` (joined, not left), whatever their agreement state. */
export function currentMembers(circle: Circle, at: Date): CircleMember[] {
  return circle.members.filter((member) => membershipAt(circle, member.organisationId, at).kind === 'member');
}
