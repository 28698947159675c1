import { releasesIn } from '../audit/audit-chain.ts';
import { auditRecords } from '../audit/read-audit-log.ts';
import { EntenteError } from '../errors/entente-error.ts';
import { bindingAgreement, parseAgreement, type Agreement, type AgreementState } from '../policy/agreement.ts';
import { aggregateWeaknesses, type WeaknessTotals } from '../policy/aggregate-weaknesses.ts';
import { membershipAt, parseCircle, visibleMembers, type Circle, type CircleRole } from '../policy/circle.ts';
import { toAgreementDocument, toCircleDocument } from '../policy/circle-documents.ts';
import { endCircle, inviteMember, leaveCircle, promoteMember, type CircleChangeRefusal } from '../policy/circle-lifecycle.ts';
import { decideCircleStanding } from '../policy/decide-circle-release.ts';
import type { PolicyIssue } from '../policy/document-reader.ts';
import type { ObjectStore, RecallNotice } from '../store/object-store.ts';
import { weaknessDisclosures } from './weakness-disclosures.ts';
import { metaKeys } from '../bootstrap-node.ts';
import { SIGHTING_EVIDENCE_PROPERTY } from '../correlate/sighting-objects.ts';
import { ownKeysAsPinned } from '../federation/node-key-lifecycle.ts';

/**
 * What people do with circles — create, invite, propose terms, accept, leave, end, promote — for
 * the CLI and the REST API alike. The rules are the pure functions of src/policy; this module
 * loads, checks who is acting, stores, and queues recall notices.
 */
export interface CircleDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
}

/**
 * Who asks: the node administrator may act for anyone; a partner's token acts for its own
 * organisation; the home organisation's other tokens read (only the administrator speaks for it).
 */
export interface CircleActor {
  readonly organisationId: string;
  readonly admin: boolean;
}

const CREATE_FIELDS = ['id', 'name', 'description', 'kind', 'visibility', 'collection_id', 'default_tlp', 'valid_from', 'valid_until', 'review_at'];

function invalid(code: 'ENT_POLICY_CIRCLE_INVALID' | 'ENT_POLICY_AGREEMENT_INVALID', issues: readonly PolicyIssue[]): EntenteError {
  return new EntenteError(code, issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {
    issues: issues.map((issue) => ({ path: issue.path, code: issue.code, message: issue.message })),
  });
}

function refused(refusal: CircleChangeRefusal): EntenteError {
  return new EntenteError(refusal.code, refusal.message);
}

function actsForHome(deps: CircleDeps, actor: CircleActor): boolean {
  return actor.admin || actor.organisationId === deps.homeOrganisationId;
}

/**
 * Whether a partner belongs to the circle at `at`: invited and not gone. A member that left sees
 * the circle no more — not who joins after it, nor the terms proposed after it left; what it
 * received stays in the audit.
 */
function belongsTo(circle: Circle, organisationId: string, at: Date): boolean {
  return circle.members.some(
    (member) => member.organisationId === organisationId && (member.leftAt === undefined || at.getTime() < Date.parse(member.leftAt)),
  );
}

function circleNotFound(circleId: string): EntenteError {
  // The same answer for a circle that exists but is not the caller's: existence is not revealed.
  return new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${circleId}`, { circleId });
}

/** The circle, if the actor may know it exists: the home organisation, or an organisation that belongs to it. */
async function requireCircle(deps: CircleDeps, circleId: string, actor: CircleActor, at: Date): Promise<Circle> {
  const circle = await deps.store.getCircle(circleId);
  if (circle === undefined || !(actsForHome(deps, actor) || belongsTo(circle, actor.organisationId, at))) throw circleNotFound(circleId);
  return circle;
}

/** Terms are proposed and accepted only while the circle runs: after its end nothing can bind any more. */
function requireNotEnded(circle: Circle, at: Date): void {
  if (circle.validUntil !== undefined && !(at.getTime() < Date.parse(circle.validUntil))) {
    throw new EntenteError('ENT_CIRCLE_ENDED', `Circle ${circle.id} ended at ${circle.validUntil}`, { circleId: circle.id });
  }
}

function requireCoordinator(deps: CircleDeps, circle: Circle, actor: CircleActor, at: Date): void {
  if (actor.admin) return;
  if (actor.organisationId === deps.homeOrganisationId) {
    // The home organisation's analysts read; only its administrator speaks for it in a circle.
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `Changing circle ${circle.id} for the home organisation needs the node administrator's token`);
  }
  const membership = membershipAt(circle, actor.organisationId, at);
  if (membership.kind !== 'member' || membership.member.role !== 'coordinator') {
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `Only a coordinator of circle ${circle.id} may change it`);
  }
}

/**
 * Who may speak for `organisationId` in its own decisions on a circle (accept, counter, leave):
 * the node administrator for any member, a partner's token for its own organisation. The home
 * organisation's other tokens (analysts) read; only its administrator speaks for it in a circle, as
 * requireCoordinator says for changes and coordinator-link's requireHomeAdministrator for a
 * mirrored circle. `action` completes "cannot …" (e.g. "accept terms").
 */
export function requireSpeaksFor(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string, action: string): void {
  if (actor.admin) return;
  if (actor.organisationId !== organisationId) {
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `A token acting for ${actor.organisationId} cannot ${action} for ${organisationId}`);
  }
  if (organisationId === deps.homeOrganisationId) {
    throw new EntenteError(
      'ENT_CIRCLE_FORBIDDEN',
      `Acting in circle ${circleId} for the home organisation needs the node administrator's token; this token cannot ${action} for it`,
      { circleId },
    );
  }
}

const circleLocks = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * Runs one change of a circle after the changes already under way for it in this process. A
 * change reads the circle, computes the new document and writes it back; two of them interleaved
 * would each write their own copy, and the later one would undo the other — a member that left
 * back in the circle because a coordinator invited someone in the same instant.
 */
async function exclusively<T>(deps: CircleDeps, circleId: string, work: () => Promise<T>): Promise<T> {
  let locks = circleLocks.get(deps.store);
  if (locks === undefined) {
    locks = new Map();
    circleLocks.set(deps.store, locks);
  }
  const previous = locks.get(circleId) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.then(() => undefined, () => undefined);
  locks.set(circleId, settled);
  try {
    return await run;
  } finally {
    if (locks.get(circleId) === settled) locks.delete(circleId);
  }
}

/**
 * Writes a changed circle, provided the stored one is still the one the change was computed from:
 * another process (the command line next to the node) may have changed it meanwhile.
 */
async function writeChange(deps: CircleDeps, before: Circle, after: Circle, at: Date): Promise<void> {
  await deps.store.updateCircle(after, at, before);
}

/**
 * The invited organisation must be registered here. The node administrator is told so; a partner
 * coordinator is not told what this node's registry holds (its partner list): only that the node's
 * administrator invites this organisation.
 */
async function requireKnownOrganisation(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string): Promise<void> {
  if (organisationId === deps.homeOrganisationId) return;
  if ((await deps.store.getOrganisation(organisationId)) !== undefined) return;
  if (actor.admin) {
    throw new EntenteError('ENT_ORG_NOT_FOUND', `No organisation ${organisationId}; register it first (entente org add)`, { organisationId });
  }
  throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `${organisationId} can be invited to circle ${circleId} only by the administrator of the node that hosts it`, { circleId });
}

/**
 * Refusals of an invitation that depend on the circle alone (ended, already a member or gone, full),
 * never on the registry: given before the registry is looked at. A malformed id is still answered
 * by the registry check first, which names the fix ("register it first").
 */
const CIRCLE_REFUSALS: ReadonlySet<string> = new Set(['ENT_CIRCLE_ENDED', 'ENT_CIRCLE_MEMBER_EXISTS', 'ENT_POLICY_TOO_LARGE']);

/**
 * Creates a circle coordinated by the home organisation, on its own collection (created with the
 * circle's id when `collection_id` is not given). The input is the circle document without members.
 */
export async function createCircle(deps: CircleDeps, input: unknown): Promise<Circle> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('ENT_POLICY_CIRCLE_INVALID', [{ path: '$', code: 'ENT_POLICY_WRONG_TYPE', message: 'expected a JSON object' }]);
  }
  const fields = input as Record<string, unknown>;
  const unknownField = Object.keys(fields).find((key) => !CREATE_FIELDS.includes(key));
  if (unknownField !== undefined) {
    throw invalid('ENT_POLICY_CIRCLE_INVALID', [
      { path: `$.${unknownField}`, code: 'ENT_POLICY_UNKNOWN_FIELD', message: `unknown field; members join through invitations` },
    ]);
  }
  const now = deps.clock();
  // Only an absent start defaults to now: a start of the wrong type is reported, never replaced.
  const validFrom = fields['valid_from'] === undefined ? now.toISOString() : fields['valid_from'];
  const document = {
    ...fields,
    collection_id: fields['collection_id'] ?? fields['id'],
    valid_from: validFrom,
    members: [{ organisation_id: deps.homeOrganisationId, role: 'coordinator', joined_at: typeof validFrom === 'string' ? validFrom : now.toISOString(), trial: false }],
  };
  const parsed = parseCircle(document);
  if (!parsed.ok) throw invalid('ENT_POLICY_CIRCLE_INVALID', parsed.error);
  const circle = parsed.value;
  if ((await deps.store.getCircle(circle.id)) !== undefined) {
    throw new EntenteError('ENT_CIRCLE_EXISTS', `A circle with id "${circle.id}" already exists`, { circleId: circle.id });
  }
  const holder = await deps.store.getCircleByCollection(circle.collectionId);
  if (holder !== undefined) {
    throw new EntenteError('ENT_CIRCLE_COLLECTION_TAKEN', `Collection ${circle.collectionId} already carries circle ${holder.id}`);
  }
  await refuseUnfitCircleCollection(deps.store, deps.homeOrganisationId, circle.id, circle.collectionId);
  if ((await deps.store.getCollection(circle.collectionId)) === undefined) {
    await deps.store.createCollection({ id: circle.collectionId, title: circle.name, description: `Collection of circle ${circle.id}` }, now);
  }
  await deps.store.createCircle(circle, now);
  return circle;
}

/**
 * Throws unless `collectionId` may carry a circle: what a circle's collection holds goes to its
 * members. Not the default collection, written for every home reader (home sightings were stored
 * there, unmarked, before they went beside their indicators); not a collection already holding home
 * sightings or their evidence, stored unmarked for the home's readers, which would reach the members
 * past sighting_sharing and the indicator's markings; never the home sightings collection, empty or
 * not (bootstrap-node.ts ensureHomeSightingsCollection). For every way a circle comes to carry an
 * existing collection (createCircle; a mirrored circle could use it too).
 */
export async function refuseUnfitCircleCollection(store: ObjectStore, homeOrganisationId: string, circleId: string, collectionId: string): Promise<void> {
  if (collectionId === (await store.getMeta(metaKeys.defaultCollection))) {
    throw new EntenteError(
      'ENT_CIRCLE_COLLECTION_DEFAULT',
      `Collection ${collectionId} is the default collection, written for the home organisation's own readers; create the circle on a collection of its own (leave collection_id out)`,
      { circleId },
    );
  }
  // The home sightings collection, even empty: it is made to hold home sightings of indicators its
  // readers may not otherwise read, for the home alone. Named by its alias too: a circle given
  // `home-sightings` as its collection id would get a new collection of that id, which grants naming
  // `home-sightings` would then find first (findCollection tries ids before aliases).
  const homeSightings = await store.getMeta(metaKeys.homeSightingsCollection);
  if (homeSightings !== undefined && (collectionId === homeSightings || (await store.getCollection(homeSightings))?.alias === collectionId)) {
    throw new EntenteError(
      'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS',
      `Collection ${collectionId} is the home sightings collection, holding home sightings and their evidence for the home organisation alone: ` +
        `it never carries a circle; create the circle on a collection of its own (leave collection_id out)`,
      { circleId },
    );
  }
  if ((await store.getCollection(collectionId)) !== undefined && (await holdsHomeSightings(store, homeOrganisationId, collectionId))) {
    throw new EntenteError(
      'ENT_CIRCLE_COLLECTION_HOLDS_SIGHTINGS',
      `Collection ${collectionId} holds home sightings or their evidence, stored unmarked for the home organisation's readers: ` +
        `as a circle's collection it would release them to the members past sighting_sharing; create the circle on a collection of its own`,
      { circleId },
    );
  }
}

/**
 * Whether any version stored in the collection is a sighting by the home organisation or sighting
 * evidence (correlate/sighting-objects.ts): earlier versions too, since a circle's members may be
 * released any version the collection holds.
 */
async function holdsHomeSightings(store: ObjectStore, homeOrganisationId: string, collectionId: string): Promise<boolean> {
  let after: number | undefined;
  for (;;) {
    const page = await store.listEntries(
      collectionId,
      { types: ['sighting', 'observed-data'], versions: [{ kind: 'all' }] },
      { limit: 500, ...(after === undefined ? {} : { after }) },
    );
    for (const entry of page.entries) {
      const object = JSON.parse(entry.json) as Record<string, unknown>;
      if (object['type'] === 'sighting' && object['created_by_ref'] === homeOrganisationId) return true;
      if (object['type'] === 'observed-data' && object[SIGHTING_EVIDENCE_PROPERTY] === true) return true;
    }
    const last = page.entries.at(-1);
    if (!page.more || last === undefined) return false;
    after = last.dateAdded;
  }
}

export interface InviteInput {
  readonly organisationId: string;
  readonly role: CircleRole;
  readonly trial: boolean;
}

export async function invite(deps: CircleDeps, actor: CircleActor, circleId: string, input: InviteInput): Promise<Circle> {
  return exclusively(deps, circleId, async () => {
    const at = deps.clock();
    const circle = await requireCircle(deps, circleId, actor, at);
    requireCoordinator(deps, circle, actor, at);
    // An ended circle and an existing member are refused before the registry is looked at: else a
    // partner coordinator would learn, changing nothing, which organisations are registered here.
    const changed = inviteMember(circle, input, at);
    if (!changed.ok && CIRCLE_REFUSALS.has(changed.error.code)) throw refused(changed.error);
    await requireKnownOrganisation(deps, actor, circleId, input.organisationId);
    if (!changed.ok) throw refused(changed.error);
    await writeChange(deps, circle, changed.value, at);
    return changed.value;
  });
}

/**
 * Proposes the next version of the circle's terms (a JSON `terms` object as in agreement documents).
 * It binds nobody until members accept it.
 */
export async function proposeAgreement(deps: CircleDeps, actor: CircleActor, circleId: string, terms: unknown): Promise<Agreement> {
  return exclusively(deps, circleId, async () => {
    const at = deps.clock();
    const circle = await requireCircle(deps, circleId, actor, at);
    requireCoordinator(deps, circle, actor, at);
    requireNotEnded(circle, at);
    const state = await deps.store.getAgreementState(circleId);
    const version = state.agreements.reduce((highest, agreement) => Math.max(highest, agreement.version), 0) + 1;
    // An administrator proposes on behalf of the home organisation, which coordinates the circles it hosts.
    const proposedBy = actor.admin ? deps.homeOrganisationId : actor.organisationId;
    // Terms bind only when a coordinator proposed them (bindingAgreement): once the home organisation
    // has left, a version proposed in its name would be accepted by members and bind nobody.
    const proposer = membershipAt(circle, proposedBy, at);
    if (proposer.kind !== 'member' || proposer.member.role !== 'coordinator') {
      throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `${proposedBy} is not a coordinator of circle ${circleId} now; terms it proposed would bind nobody`);
    }
    const parsed = parseAgreement({ circle_id: circleId, version, proposed_by: proposedBy, proposed_at: at.toISOString(), terms });
    if (!parsed.ok) throw invalid('ENT_POLICY_AGREEMENT_INVALID', parsed.error);
    await deps.store.addAgreement(parsed.value);
    return parsed.value;
  });
}

/** A member's public key, as a member's node sends it with its acceptance (`public_keys`). */
export interface AcceptedKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly validFrom: string;
  readonly validUntil: string | undefined;
}

/**
 * A member accepts one version (the latest when none is named) for its own organisation. The
 * acceptance may carry the member's public keys, which this node pins for it (source 'acceptance'):
 * that is how a coordinator's node learns the keys of members it has no peer link with.
 */
export async function acceptAgreement(
  deps: CircleDeps,
  actor: CircleActor,
  circleId: string,
  organisationId: string,
  version?: number,
  publicKeys: readonly AcceptedKey[] = [],
): Promise<{ readonly version: number; readonly acceptedAt: string }> {
  const at = deps.clock();
  const circle = await requireCircle(deps, circleId, actor, at);
  requireSpeaksFor(deps, actor, circleId, organisationId, 'accept terms');
  const requireStanding = (current: Circle, instant: Date): void => {
    requireNotEnded(current, instant);
    const membership = membershipAt(current, organisationId, instant);
    if (membership.kind !== 'member') throw new EntenteError('ENT_CIRCLE_NOT_MEMBER', membership.reason);
  };
  requireStanding(circle, at);
  const state = await deps.store.getAgreementState(circleId);
  const latest = state.agreements.reduce((highest, agreement) => Math.max(highest, agreement.version), 0);
  const chosen = version ?? latest;
  if (!state.agreements.some((agreement) => agreement.version === chosen)) {
    throw new EntenteError('ENT_AGREEMENT_NOT_FOUND', chosen === 0 ? `Circle ${circleId} has no proposed terms yet` : `Circle ${circleId} has no agreement version ${chosen}`);
  }
  // Only the latest version may be accepted: bindingAgreement binds the highest version a member
  // accepted, so accepting a superseded one would put the member under terms the coordinators
  // replaced — wider ones, when the new version narrows them. An acceptance made before the new
  // version was proposed stands until the member accepts the new one.
  if (chosen < latest) {
    throw new EntenteError(
      'ENT_AGREEMENT_SUPERSEDED',
      `Agreement version ${chosen} of circle ${circleId} is superseded by version ${latest}; only version ${latest} can be accepted`,
      { circleId, version: chosen, latestVersion: latest },
    );
  }
  if (publicKeys.length > 0 && organisationId === deps.homeOrganisationId) {
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', "The home organisation's keys are this node's own; they are not pinned from an acceptance");
  }
  if (publicKeys.length > 0) {
    // A key id belongs to one organisation: a member cannot have this node's keys, or another
    // organisation's, pinned under its own name (every signature by them would then be unknown-key).
    const ownKeys = new Set((await deps.store.listNodeKeys()).map((key) => key.keyId));
    const pinned = await deps.store.listPinnedKeys();
    for (const key of publicKeys) {
      const owner = ownKeys.has(key.keyId) ? deps.homeOrganisationId : pinned.find((held) => held.keyId === key.keyId && held.organisationId !== organisationId)?.organisationId;
      if (owner !== undefined) throw new EntenteError('ENT_PEER_KEY_MISMATCH', `Key ${key.keyId} is ${owner}'s; it cannot be pinned for ${organisationId}`, { keyId: key.keyId });
    }
  }
  // Checked again in the write transaction, on the circle as it is then and at that instant: the
  // command line may have made the member leave, or ended the circle, since the read above, and
  // that leave is dated after the read (a check at the read's instant would still find a member).
  const standingAtWrite = (current: Circle): void => requireStanding(current, new Date(Math.max(at.getTime(), deps.clock().getTime())));
  // The keys with the acceptance, in its transaction: pinned separately after it, a crash or a pin
  // refused in between (the key pinned for another organisation meanwhile) left the member bound
  // without the keys that verify what it sends.
  const pins = publicKeys.map((key) => ({ organisationId, keyId: key.keyId, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil, source: 'acceptance', pinnedAt: at.toISOString() }));
  await deps.store.addAcceptance({ circleId, organisationId, version: chosen, acceptedAt: at.toISOString() }, { latestOnly: true, check: standingAtWrite, pins });
  // Accepting again changes nothing: answer with the acceptance that stands, not with this instant.
  const stored = (await deps.store.getAgreementState(circleId)).acceptances.find(
    (acceptance) => acceptance.organisationId === organisationId && acceptance.version === chosen,
  );
  return { version: chosen, acceptedAt: stored?.acceptedAt ?? at.toISOString() };
}

/** The member leaves now; with the recall end rule, what it received is queued for recall. */
export async function leave(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string): Promise<{ circle: Circle; recalls: number }> {
  return exclusively(deps, circleId, async () => {
    const at = deps.clock();
    const circle = await requireCircle(deps, circleId, actor, at);
    requireSpeaksFor(deps, actor, circleId, organisationId, 'leave the circle');
    const state = await deps.store.getAgreementState(circleId);
    const changed = leaveCircle(circle, organisationId, at);
    if (!changed.ok) throw refused(changed.error);
    await writeChange(deps, circle, changed.value, at);
    const recalls = await queueRecallsFor(deps, circle, state, [{ organisationId, at }], `${organisationId} left circle ${circleId}`, at);
    return { circle: changed.value, recalls };
  });
}

/** Ends the circle now (or at a later instant); members whose terms say recall get recall notices queued. */
export async function end(deps: CircleDeps, actor: CircleActor, circleId: string, endAt?: Date): Promise<{ circle: Circle; recalls: number }> {
  return exclusively(deps, circleId, async () => {
    const now = deps.clock();
    const circle = await requireCircle(deps, circleId, actor, now);
    requireCoordinator(deps, circle, actor, now);
    const at = endAt !== undefined && endAt.getTime() > now.getTime() ? endAt : now;
    if (circle.validUntil !== undefined && now.getTime() < Date.parse(circle.validUntil) && !(at.getTime() < Date.parse(circle.validUntil))) {
      throw new EntenteError('ENT_CIRCLE_ENDED', `Circle ${circleId} already ends at ${circle.validUntil}; an end is brought forward, never postponed`, { circleId });
    }
    const changed = endCircle(circle, at);
    if (!changed.ok) throw refused(changed.error);
    await writeChange(deps, circle, changed.value, now);
    // An end in the future is left to the sweep (queueRecallsOfEndedCircles): until then members still
    // receive, and a notice queued now would miss those releases.
    if (at.getTime() > now.getTime()) return { circle: changed.value, recalls: 0 };
    const recalls = await queueRecallsOfEndedCircles(deps);
    return { circle: changed.value, recalls };
  });
}

export async function promote(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string): Promise<Circle> {
  return exclusively(deps, circleId, async () => {
    const at = deps.clock();
    const circle = await requireCircle(deps, circleId, actor, at);
    requireCoordinator(deps, circle, actor, at);
    const changed = promoteMember(circle, organisationId, at);
    if (!changed.ok) throw refused(changed.error);
    await writeChange(deps, circle, changed.value, at);
    return changed.value;
  });
}

/** The versions of the circle's terms whose end rule says `recall` (any document of that version: fail towards recalling). */
function recallVersions(state: AgreementState, circle: Circle): ReadonlySet<number> {
  const versions = new Set<number>();
  for (const agreement of state.agreements) if (agreement.circleId === circle.id && agreement.terms.endRule === 'recall') versions.add(agreement.version);
  return versions;
}

/**
 * Queues a recall notice for every object version the audit says each organisation received
 * through the circle, when the terms that bound it at `at` say `recall`, or, release by release,
 * when the version of the terms the release was made under did (the audit records it): terms agreed
 * later cannot waive a recall the earlier ones promised for what went under them. The terms that
 * bind are those the release gate applies — accepted by the member and accepted or proposed by this
 * node's organisation too (bindingAgreement, `agreedBy`) — so that a version only the member accepted
 * cannot turn the recall of what was released under another into retention. `at` is per
 * organisation. Queueing is idempotent (one notice per circle, organisation and object version:
 * store.queueRecalls counts only new ones). Delivery belongs to federation.
 */
export async function queueRecallsFor(
  deps: CircleDeps,
  circle: Circle,
  state: AgreementState,
  organisations: readonly { readonly organisationId: string; readonly at: Date }[],
  reason: string,
  queuedAt: Date,
): Promise<number> {
  let queued = 0;
  const recalling = recallVersions(state, circle);
  if (recalling.size === 0) return 0;
  for (const { organisationId, at } of organisations) {
    const binding = bindingAgreement(state, circle, organisationId, at, 0, deps.homeOrganisationId);
    const recallAll = binding.kind === 'bound' && binding.agreement.terms.endRule === 'recall';
    const seen = new Set<string>();
    const notices: RecallNotice[] = [];
    for await (const { chained } of auditRecords(deps.store, { recipientOrganisationId: organisationId, circleId: circle.id })) {
      // A flash sent names no object version to recall (releasesIn gives none).
      for (const release of releasesIn(chained.entry)) {
        const key = `${release.objectId}\u0000${release.objectModified}`;
        if (release.decision === 'withhold' || seen.has(key)) continue;
        if (!recallAll && (release.agreementVersion === undefined || !recalling.has(release.agreementVersion))) continue;
        seen.add(key);
        notices.push({ circleId: circle.id, organisationId, objectId: release.objectId, version: release.objectModified, reason, queuedAt: queuedAt.toISOString() });
      }
    }
    queued += await deps.store.queueRecalls(notices);
  }
  return queued;
}

/**
 * Circles end on their date without anyone calling `end`: this sweep queues the recall notices of
 * every circle whose end has passed, once per circle (a node_meta marker records it). The running
 * node calls it at start and every minute; `entente circle recalls` calls it before listing.
 */
export async function queueRecallsOfEndedCircles(deps: CircleDeps): Promise<number> {
  const now = deps.clock();
  let queued = 0;
  for (const circle of await deps.store.listCircles()) {
    if (circle.validUntil === undefined || Date.parse(circle.validUntil) > now.getTime()) continue;
    const marker = `recalls-queued:${circle.id}`;
    if ((await deps.store.getMeta(marker)) !== undefined) continue;
    const ended = new Date(circle.validUntil);
    const state = await deps.store.getAgreementState(circle.id);
    // The terms that bound each member just before the end, or just before it left, decide whether
    // it is a recall. Members that left count too: a leave seen only through the mirror of a circle
    // coordinated elsewhere queued nothing here, and what this node released to the member before it
    // left is owed the recall all the same. One that left here already has its notices: queueing is
    // idempotent, and nothing was released to it after it left.
    const members = circle.members.map((member) => {
      const until = member.leftAt === undefined ? ended.getTime() : Math.min(ended.getTime(), Date.parse(member.leftAt));
      return { organisationId: member.organisationId, at: new Date(until - 1) };
    });
    queued += await queueRecallsFor(deps, circle, state, members, `circle ${circle.id} ended at ${circle.validUntil}`, new Date(ended.getTime() - 1));
    await deps.store.setMeta(marker, now.toISOString());
  }
  return queued;
}

/**
 * Weakness totals (per CVE and ATT&CK technique, owner removed) over every disclosure this node
 * holds whose owner opted the circle in. For the home organisation, and for members bound by the
 * circle's terms now; anyone else gets the same 404 as for an unknown circle. Each version counts
 * for the organisation that contributed it first (weaknessDisclosures: the home organisation for
 * its own writes; nobody when several partners sent the identical version), never for the
 * created_by_ref it claims nor for whoever contributed another version or copy of the same id; the
 * reader's own disclosures never count towards showing a row, and a partner is told nothing of the
 * rows left out. A partner's totals count only the disclosures of contributors whose contributions
 * the release decision would let reach it (rule 3a: not those of a member that has not agreed to
 * terms with it in the circle, nor of an organisation outside it), the threshold applying to what
 * is left: totals over the others would tell a newcomer of the gaps of members that never consented
 * to share with it. The home organisation's count every disclosure the node holds.
 */
export async function weaknessTotals(deps: CircleDeps, viewer: CircleActor, circleId: string): Promise<WeaknessTotals> {
  const at = deps.clock();
  const circle = await requireCircle(deps, circleId, viewer, at);
  let counts: ((contributor: string) => boolean) | undefined;
  if (!viewer.admin && viewer.organisationId !== deps.homeOrganisationId) {
    // The standing a release to the viewer through the circle has: the circle open, the viewer a
    // member, bound by terms this node's organisation agreed to as well (agreedBy). The sectors are
    // read by no rule of the standing.
    const standing = decideCircleStanding({ organisationId: viewer.organisationId, sectors: [] }, circle, await deps.store.getAgreementState(circleId), at, 0, deps.homeOrganisationId);
    if (standing.kind !== 'bound') throw new EntenteError('ENT_CIRCLE_NOT_FOUND', `No circle ${circleId}`, { circleId });
    // Rule 3a, as the release decision applies it: only the disclosures of contributors whose
    // contributions would reach the viewer count, so that the totals say nothing of a member that
    // has not agreed to terms with the viewer in the circle (one that accepted before the viewer
    // joined and not since).
    counts = (contributor) => standing.contributorRefusal(contributor) === undefined;
  }
  const disclosures = await weaknessDisclosures(deps.store, deps.homeOrganisationId);
  const markingIds = new Set(
    disclosures.flatMap(({ object }) => (Array.isArray(object['object_marking_refs']) ? object['object_marking_refs'] : [])).filter((ref): ref is string => typeof ref === 'string'),
  );
  const { suppressedRows, ...totals } = aggregateWeaknesses(disclosures, await deps.store.markingDefinitions([...markingIds]), circleId, {
    reader: viewer.organisationId,
    ...(counts === undefined ? {} : { counts }),
  });
  return actsForHome(deps, viewer) ? { ...totals, ...(suppressedRows === undefined ? {} : { suppressedRows }) } : totals;
}

/** Circles the viewer may know of: all for the home organisation's users, else those it belongs to (invited, not left). */
export async function visibleCircles(deps: CircleDeps, viewer: CircleActor): Promise<Circle[]> {
  const circles = await deps.store.listCircles();
  if (actsForHome(deps, viewer)) return circles;
  const at = deps.clock();
  return circles.filter((circle) => belongsTo(circle, viewer.organisationId, at));
}

/**
 * A circle as the viewer may see it: hidden circles show a partner only the coordinators and
 * itself; agreements are shown in full (members must read what they accept); acceptances and keys
 * of the members the viewer may see (all for the home organisation), so that a member's node can
 * mirror the circle and pin its members' keys (`member_keys`: keys pinned here, and this node's own
 * public keys when its organisation is among the members shown).
 */
export async function circleView(deps: CircleDeps, viewer: CircleActor, circleId: string): Promise<Record<string, unknown>> {
  const circle = await requireCircle(deps, circleId, viewer, deps.clock());
  const home = actsForHome(deps, viewer);
  const state = await deps.store.getAgreementState(circleId);
  const members = home ? circle.members : visibleMembers(circle, viewer.organisationId);
  const shown = new Set(members.map((member) => member.organisationId));
  const acceptances = state.acceptances.filter((acceptance) => shown.has(acceptance.organisationId));
  const ownKeys = shown.has(deps.homeOrganisationId)
    ? ownKeysAsPinned(await deps.store.listNodeKeys(), deps.homeOrganisationId)
    : [];
  const pinned = (await deps.store.listPinnedKeys()).filter((key) => shown.has(key.organisationId) && key.organisationId !== deps.homeOrganisationId);
  return {
    ...toCircleDocument({ ...circle, members }),
    agreements: state.agreements.map(toAgreementDocument),
    acceptances: acceptances.map((acceptance) => ({
      organisation_id: acceptance.organisationId,
      version: acceptance.version,
      accepted_at: acceptance.acceptedAt,
    })),
    member_keys: [...ownKeys, ...pinned].map((key) => ({
      organisation_id: key.organisationId,
      key_id: key.keyId,
      public_key: key.publicKey,
      valid_from: key.validFrom,
      ...(key.validUntil === undefined ? {} : { valid_until: key.validUntil }),
    })),
  };
}
