import { EntenteError } from '../errors/entente-error.ts';
import { parseAgreement } from '../policy/agreement.ts';
import { membershipAt } from '../policy/circle.ts';
import type { CounterProposal } from '../store/object-store.ts';
import { circleView, requireSpeaksFor, type CircleActor, type CircleDeps } from './circle-operations.ts';

const MAX_COMMENT = 2000;

/**
 * A member counters the terms: it records the terms it would accept instead of the latest version.
 * A counter binds nobody; the member stays unbound until it accepts a version, and a coordinator may
 * adopt the counter by proposing it as the next version. Only current members counter, and only
 * for themselves (the home organisation through the node administrator only); the terms are checked exactly as a proposal's are.
 */
export async function counterAgreement(
  deps: CircleDeps,
  actor: CircleActor,
  circleId: string,
  organisationId: string,
  terms: unknown,
  comment?: string,
): Promise<CounterProposal> {
  const at = deps.clock();
  // circleView applies the same "unknown circle" answer to callers that may not know the circle.
  await circleView(deps, actor, circleId);
  requireSpeaksFor(deps, actor, circleId, organisationId, 'counter the terms');
  const circle = await deps.store.getCircle(circleId);
  if (circle === undefined) throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${circleId}`, { circleId });
  if (circle.validUntil !== undefined && !(at.getTime() < Date.parse(circle.validUntil))) {
    throw new EntenteError('ENT_CIRCLE_ENDED', `Circle ${circleId} ended at ${circle.validUntil}; its terms can no longer be countered`, { circleId });
  }
  const membership = membershipAt(circle, organisationId, at);
  if (membership.kind !== 'member') throw new EntenteError('ENT_CIRCLE_NOT_MEMBER', membership.reason);
  if (comment !== undefined && comment.length > MAX_COMMENT) {
    throw new EntenteError('ENT_POLICY_AGREEMENT_INVALID', `the comment is longer than ${MAX_COMMENT} characters`);
  }
  const state = await deps.store.getAgreementState(circleId);
  const basedOnVersion = state.agreements.reduce((highest, agreement) => Math.max(highest, agreement.version), 0);
  if (basedOnVersion === 0) throw new EntenteError('ENT_AGREEMENT_NOT_FOUND', `Circle ${circleId} has no proposed terms to counter yet`);
  const parsed = parseAgreement({ circle_id: circleId, version: basedOnVersion, proposed_by: organisationId, proposed_at: at.toISOString(), terms });
  if (!parsed.ok) {
    throw new EntenteError('ENT_POLICY_AGREEMENT_INVALID', parsed.error.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {
      issues: parsed.error.map((issue) => ({ path: issue.path, code: issue.code, message: issue.message })),
    });
  }
  const counter: CounterProposal = {
    circleId,
    organisationId,
    basedOnVersion,
    terms: parsed.value.terms,
    ...(comment === undefined ? {} : { comment }),
    proposedAt: at.toISOString(),
  };
  await deps.store.addCounterProposal(counter);
  return counter;
}

/** Counter-proposals the viewer may read: all of them for the home organisation and coordinators, else its own. */
export async function visibleCounterProposals(deps: CircleDeps, viewer: CircleActor, circleId: string): Promise<CounterProposal[]> {
  await circleView(deps, viewer, circleId);
  const circle = await deps.store.getCircle(circleId);
  const at = deps.clock();
  const coordinator = circle !== undefined && (() => {
    const membership = membershipAt(circle, viewer.organisationId, at);
    return membership.kind === 'member' && membership.member.role === 'coordinator';
  })();
  const all = await deps.store.listCounterProposals(circleId);
  if (viewer.admin || viewer.organisationId === deps.homeOrganisationId || coordinator) return all;
  return all.filter((counter) => counter.organisationId === viewer.organisationId);
}
