// Where a member's own word on a circle counts: on the node of the circle's coordinator. A circle
// this node coordinates is changed here; a circle it mirrors from a coordinator's node (`peer add …
// --circle C` with a coordinator peer, federation/mirror-circle.ts) is accepted, countered and left
// on that node, through the peer link, and the mirror is refreshed at once
// (docs/federation.md, "A member's own actions"). The one place that knows which circles are
// mirrored, and through which peer.
import { errorCatalogue, type ErrorCode } from '../errors/catalogue.ts';
import { EntenteError, isEntenteError } from '../errors/entente-error.ts';
import { acceptAgreement, circleView, leave, type AcceptedKey, type CircleActor, type CircleDeps } from '../circles/circle-operations.ts';
import { counterAgreement } from '../circles/counter-proposals.ts';
import { parseAgreement } from '../policy/agreement.ts';
import { membershipAt, type Circle } from '../policy/circle.ts';
import { leaveCircle } from '../policy/circle-lifecycle.ts';
import type { NodeKeyRecord, PeerRecord } from '../store/federation-store.ts';
import type { CounterProposal } from '../store/object-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { mirrorCircle } from './mirror-circle.ts';
import type { OpenPeerClient } from './peer-operations.ts';

export interface CoordinatorLinkDeps extends CircleDeps {
  readonly openClient: OpenPeerClient;
}

/** How this node holds a circle, for a member's own actions on it. */
export type CircleHolding =
  /** Coordinated here (or not here at all): acted on in this node's store, as before. */
  | { readonly kind: 'here' }
  /** Mirrored from a coordinator's node: acted on there, through this peer. */
  | { readonly kind: 'mirrored'; readonly peer: PeerRecord; readonly coordinatorId: string }
  /** Coordinated by others, and no Entente peer of the circle links this node to any of them. */
  | { readonly kind: 'unlinked'; readonly coordinatorIds: readonly string[] };

/** Whether this node's organisation coordinates (or coordinated) the circle: then the copy here is the circle itself, never a mirror. */
export function isCoordinatedHere(circle: Circle, homeOrganisationId: string): boolean {
  return circle.members.some((member) => member.organisationId === homeOrganisationId && member.role === 'coordinator');
}

function coordinatesAt(circle: Circle, organisationId: string, at: Date): boolean {
  const membership = membershipAt(circle, organisationId, at);
  return membership.kind === 'member' && membership.member.role === 'coordinator';
}

/** Whether the circle here is a mirror taken through this peer: an Entente peer of the circle whose organisation coordinates it now, and this node's does not. */
export function isMirrorLink(circle: Circle, peer: PeerRecord, homeOrganisationId: string, at: Date): boolean {
  return peer.kind === 'entente' && peer.circleId === circle.id && !isCoordinatedHere(circle, homeOrganisationId) && coordinatesAt(circle, peer.organisationId, at);
}

/**
 * Whether a sync with this peer refreshes the circle: it is the mirror link, and this node's
 * organisation has not left the circle (a member that left sees the circle no more: the
 * coordinator answers 404).
 */
export function refreshesMirror(circle: Circle, peer: PeerRecord, homeOrganisationId: string, at: Date): boolean {
  if (!isMirrorLink(circle, peer, homeOrganisationId, at)) return false;
  const home = circle.members.find((member) => member.organisationId === homeOrganisationId);
  return home?.leftAt === undefined || at.getTime() < Date.parse(home.leftAt);
}

/** How the circle is held, given this node's peers (pure). Of several links to coordinators, the first by name. */
export function decideCircleHolding(circle: Circle | undefined, peers: readonly PeerRecord[], homeOrganisationId: string, at: Date): CircleHolding {
  if (circle === undefined || isCoordinatedHere(circle, homeOrganisationId)) return { kind: 'here' };
  const links = peers.filter((peer) => isMirrorLink(circle, peer, homeOrganisationId, at)).sort((a, b) => a.name.localeCompare(b.name));
  const link = links[0];
  if (link !== undefined) return { kind: 'mirrored', peer: link, coordinatorId: link.organisationId };
  const coordinatorIds = circle.members.filter((member) => member.organisationId !== homeOrganisationId && coordinatesAt(circle, member.organisationId, at)).map((member) => member.organisationId);
  // A circle nobody else coordinates either (all of its coordinators gone) stays this node's business.
  return coordinatorIds.length === 0 ? { kind: 'here' } : { kind: 'unlinked', coordinatorIds };
}

export async function circleHolding(deps: Pick<CircleDeps, 'store' | 'clock' | 'homeOrganisationId'>, circleId: string): Promise<CircleHolding> {
  const circle = await deps.store.getCircle(circleId);
  if (circle === undefined) return { kind: 'here' };
  return decideCircleHolding(circle, await deps.store.listPeers(), deps.homeOrganisationId, deps.clock());
}

/** What was done on the coordinator's node, and whether the mirror here shows it yet. */
export interface Forwarded {
  readonly peer: string;
  readonly coordinatorId: string;
  readonly coordinatorName: string | undefined;
  /** Why the mirror could not be refreshed right after (the next sync with the peer refreshes it); undefined when it was. */
  readonly refreshError: { readonly code: string; readonly message: string } | undefined;
}

export interface AcceptOutcome {
  readonly version: number;
  readonly acceptedAt: string;
  /** Undefined when the circle is coordinated here. */
  readonly forwarded: Forwarded | undefined;
  /** This node's public keys sent with the acceptance (the coordinator pins them). */
  readonly keysSent: number;
}

export interface CounterOutcome {
  readonly counter: CounterProposal;
  readonly forwarded: Forwarded | undefined;
}

export interface LeaveOutcome {
  readonly organisationId: string;
  /** Recall notices queued by the node where the circle is coordinated (this one, or the coordinator's). */
  readonly recalls: number;
  readonly leftAt: string | undefined;
  readonly forwarded: Forwarded | undefined;
}

/** A node accepts at most this many keys with an acceptance (api/circle-routes.ts); the newest are sent. */
const MAX_KEYS_SENT = 8;

/** This node's public keys as an acceptance carries them (`public_keys`, as GET /api/federation/node lists them). */
export function acceptanceKeysOf(keys: readonly NodeKeyRecord[]): Record<string, string>[] {
  return [...keys]
    .sort((a, b) => (a.validFrom === b.validFrom ? a.createdAt.localeCompare(b.createdAt) : a.validFrom.localeCompare(b.validFrom)))
    .slice(-MAX_KEYS_SENT)
    .map((key) => ({ key_id: key.keyId, public_key: key.publicKey, valid_from: key.validFrom, ...(key.validUntil === undefined ? {} : { valid_until: key.validUntil }) }));
}

// The coordinator's own refusals (its circle rules), given back with their code; anything else
// (its token check, its HTTP layer, transport) keeps the client's ENT_PEER_* code.
const COORDINATOR_AREAS = ['ENT_CIRCLE_', 'ENT_AGREEMENT_', 'ENT_POLICY_', 'ENT_ORG_'];

function isCoordinatorRefusal(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCatalogue, code) && COORDINATOR_AREAS.some((area) => code.startsWith(area));
}

interface Link {
  readonly circleId: string;
  readonly peer: PeerRecord;
  readonly coordinatorId: string;
  readonly coordinatorName: string | undefined;
}

function coordinatorLabel(link: Link, capital = false): string {
  return `${capital ? 'The' : 'the'} coordinator's node (${link.coordinatorName === undefined ? link.coordinatorId : `${link.coordinatorName}, ${link.coordinatorId}`}; peer ${link.peer.name})`;
}

function fromCoordinator(error: unknown, link: Link, action: string): unknown {
  if (!isEntenteError(error)) return error;
  const context = { circleId: link.circleId, peer: link.peer.name, coordinator: link.coordinatorId };
  const peerCode = error.details?.['peer_error_code'];
  if (isCoordinatorRefusal(peerCode)) {
    const description = error.details?.['peer_description'] ?? error.details?.['peer_title'];
    const said = typeof description === 'string' ? description : errorCatalogue[peerCode].title;
    return new EntenteError(peerCode, `${coordinatorLabel(link, true)} refused to ${action}: ${said}`, { ...context, from: 'coordinator' }, { cause: error });
  }
  return new EntenteError(error.code, `Could not ${action} on ${coordinatorLabel(link)}: ${error.message}; nothing was recorded here`, { ...error.details, ...context }, { cause: error });
}

function unreadable(link: Link, action: string, what: string, after = `the next sync with peer ${link.peer.name} shows it here`): EntenteError {
  return new EntenteError(
    'ENT_PEER_BAD_RESPONSE',
    `${coordinatorLabel(link, true)} answered the request to ${action} without ${what}; it may have been recorded there: ${after}`,
    { circleId: link.circleId, peer: link.peer.name, coordinator: link.coordinatorId },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInstant(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 40 && Number.isFinite(Date.parse(value));
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function errorOf(error: unknown): { code: string; message: string } {
  if (isEntenteError(error)) return { code: error.code, message: error.message };
  return { code: 'ENT_HTTP_INTERNAL', message: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300) };
}

/**
 * Only the node administrator speaks for the home organisation on its coordinator's node, and only
 * for it: the peer token is the home organisation's. A partner that belongs to the mirrored circle
 * acts on the coordinator's node itself; any other caller learns nothing of the circle.
 */
async function requireHomeAdministrator(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string, coordinatorIds: readonly string[]): Promise<void> {
  const coordinators = coordinatorIds.join(', ');
  if (!actor.admin) {
    if (actor.organisationId !== deps.homeOrganisationId) {
      await circleView(deps, actor, circleId);
      throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `Circle ${circleId} is coordinated on the node of ${coordinators}; ${actor.organisationId} acts in it there, not here`, { circleId });
    }
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', `Acting in circle ${circleId} for the home organisation needs the node administrator's token`, { circleId });
  }
  if (organisationId !== deps.homeOrganisationId) {
    throw new EntenteError(
      'ENT_CIRCLE_FORBIDDEN',
      `Circle ${circleId} is mirrored from its coordinator (${coordinators}): this node acts in it only for its own organisation (${deps.homeOrganisationId}); ${organisationId} acts on the coordinator's node`,
      { circleId },
    );
  }
}

/** The link to act through, after the actor was checked; throws ENT_PEER_NOT_FOUND for a circle coordinated elsewhere without one. */
async function linkFor(deps: CircleDeps, actor: CircleActor, circleId: string, organisationId: string, holding: Exclude<CircleHolding, { kind: 'here' }>): Promise<Link> {
  const coordinatorIds = holding.kind === 'mirrored' ? [holding.coordinatorId] : holding.coordinatorIds;
  await requireHomeAdministrator(deps, actor, circleId, organisationId, coordinatorIds);
  if (holding.kind === 'unlinked') {
    throw new EntenteError(
      'ENT_PEER_NOT_FOUND',
      `Circle ${circleId} is coordinated by ${coordinatorIds.join(', ')}, and no Entente peer of the circle links this node to a coordinator's node: add one (entente peer add NAME URL --circle ${circleId} --token-file FILE); nothing was recorded`,
      { circleId },
    );
  }
  const organisation = await deps.store.getOrganisation(holding.coordinatorId);
  return { circleId, peer: holding.peer, coordinatorId: holding.coordinatorId, coordinatorName: organisation?.name };
}

/** POSTs to the coordinator's node, then refreshes what the mirror shows with `refresh`; the client is closed after. */
async function onCoordinator<T>(
  deps: CoordinatorLinkDeps,
  link: Link,
  action: string,
  request: { readonly path: string; readonly body: Record<string, unknown> },
  read: (answer: unknown) => T,
  refresh: (client: TaxiiClient, answer: T) => Promise<void>,
): Promise<{ answer: T; forwarded: Forwarded }> {
  const client = deps.openClient({ url: link.peer.apiRootUrl, token: link.peer.token });
  try {
    let raw: unknown;
    try {
      raw = await client.postJson(`/api/circles/${encodeURIComponent(link.circleId)}/${request.path}`, request.body);
    } catch (error) {
      throw fromCoordinator(error, link, action);
    }
    const answer = read(raw);
    let refreshError: Forwarded['refreshError'];
    try {
      await refresh(client, answer);
    } catch (error) {
      refreshError = errorOf(error);
    }
    return { answer, forwarded: { peer: link.peer.name, coordinatorId: link.coordinatorId, coordinatorName: link.coordinatorName, refreshError } };
  } finally {
    client.close();
  }
}

/**
 * The version of a mirrored circle's terms the home organisation may accept: the one named, or the
 * latest, among the versions the mirror holds here. Throws ENT_AGREEMENT_NOT_FOUND, naming the
 * versions held, for any other: its terms would be ones this node has not shown.
 */
function versionHeldHere(circleId: string, held: readonly number[], version: number | undefined, link: Link): number {
  const versions = [...new Set(held)].sort((a, b) => a - b);
  const latest = versions.at(-1);
  const sync = `sync with peer ${link.peer.name} (entente sync ${link.peer.name}) to mirror its terms from ${coordinatorLabel(link)}, review them, then accept; nothing was sent or recorded`;
  if (latest === undefined) {
    throw new EntenteError('ENT_AGREEMENT_NOT_FOUND', `This node holds no agreement version of circle ${circleId} yet: ${sync}`, { circleId });
  }
  if (version === undefined) return latest;
  if (!versions.includes(version)) {
    throw new EntenteError('ENT_AGREEMENT_NOT_FOUND', `This node holds version(s) ${versions.join(', ')} of circle ${circleId}, not version ${version}: ${sync}`, { circleId, version });
  }
  return version;
}

/**
 * The home organisation accepts a version of the terms (the latest when none is named). On a
 * mirrored circle: the version named, or the latest the mirror holds here, always named to the
 * coordinator's node and only one held here (versionHeldHere); there with this node's public keys (which it pins), then
 * the acceptance the coordinator confirmed is recorded here with the refreshed mirror (or alone,
 * when the refresh fails). This is the only way the home's acceptance of a mirrored circle gets
 * here: the mirror never takes it from the coordinator's view. Otherwise acceptAgreement.
 */
export async function acceptOrForward(
  deps: CoordinatorLinkDeps,
  actor: CircleActor,
  circleId: string,
  organisationId: string,
  version?: number,
  publicKeys: readonly AcceptedKey[] = [],
): Promise<AcceptOutcome> {
  const holding = await circleHolding(deps, circleId);
  if (holding.kind === 'here') {
    const accepted = await acceptAgreement(deps, actor, circleId, organisationId, version, publicKeys);
    return { ...accepted, forwarded: undefined, keysSent: 0 };
  }
  const link = await linkFor(deps, actor, circleId, organisationId, holding);
  if (publicKeys.length > 0) {
    throw new EntenteError('ENT_CIRCLE_FORBIDDEN', "The home organisation's keys are this node's own: the node sends them with the acceptance itself; leave out public_keys", { circleId });
  }
  // The version is always named, and only one whose terms this node holds: the administrator decides
  // on the terms the mirror shows here. "The latest" left to the coordinator's node would be whatever
  // it shows at that instant, terms nobody here has seen.
  const held = (await deps.store.getAgreementState(circleId)).agreements.map((agreement) => agreement.version);
  const asked = versionHeldHere(circleId, held, version, link);
  const keys = acceptanceKeysOf(await deps.store.listNodeKeys());
  const action = `accept the terms of circle ${circleId}`;
  const { answer, forwarded } = await onCoordinator(
    deps,
    link,
    action,
    { path: 'accept', body: { organisation_id: deps.homeOrganisationId, version: asked, public_keys: keys } },
    (raw) => {
      const chosen = isRecord(raw) ? raw['version'] : undefined;
      const acceptedAt = isRecord(raw) ? raw['accepted_at'] : undefined;
      // Nothing of it is recorded here (the mirror takes the home's acceptance from no view); accepting again is.
      const again = `accepting again here records it (accepting twice changes nothing there)`;
      if (typeof chosen !== 'number' || !Number.isSafeInteger(chosen) || chosen < 1 || !isInstant(acceptedAt)) throw unreadable(link, action, 'the version and time accepted', again);
      // What is recorded here is the home's word: the version it asked for (one held here before the
      // request), never another the coordinator names.
      if (chosen !== asked) {
        const unheld = held.includes(chosen) ? '' : `, which this node did not hold before the request; it holds ${[...new Set(held)].sort((a, b) => a - b).join(', ')}`;
        throw unreadable(link, action, `an acceptance of version ${asked} (it named version ${chosen}${unheld})`, again);
      }
      return { version: chosen, acceptedAt };
    },
    async (client, accepted) => {
      try {
        // The mirror takes no acceptance of the home organisation from the coordinator's view; this
        // one, confirmed to this node's own request, it records, and binds the coordinator by it at once.
        await mirrorCircle(deps, client, circleId, link.coordinatorId, { homeAcceptance: accepted });
      } finally {
        const state = await deps.store.getAgreementState(circleId);
        const shown = state.acceptances.some((held) => held.organisationId === deps.homeOrganisationId && held.version === accepted.version);
        if (!shown && state.agreements.some((agreement) => agreement.version === accepted.version)) {
          await deps.store.addAcceptance({ circleId, organisationId: deps.homeOrganisationId, version: accepted.version, acceptedAt: accepted.acceptedAt });
        }
      }
    },
  );
  return { ...answer, forwarded, keysSent: keys.length };
}

/**
 * The home organisation counters the terms. On a mirrored circle: on the coordinator's node, and the
 * counter it recorded is kept here too (GET /api/circles/C/counters); the mirror is refreshed.
 * Otherwise counterAgreement.
 */
export async function counterOrForward(
  deps: CoordinatorLinkDeps,
  actor: CircleActor,
  circleId: string,
  organisationId: string,
  terms: unknown,
  comment?: string,
): Promise<CounterOutcome> {
  const holding = await circleHolding(deps, circleId);
  if (holding.kind === 'here') return { counter: await counterAgreement(deps, actor, circleId, organisationId, terms, comment), forwarded: undefined };
  const link = await linkFor(deps, actor, circleId, organisationId, holding);
  const action = `counter the terms of circle ${circleId}`;
  const { answer, forwarded } = await onCoordinator(
    deps,
    link,
    action,
    { path: 'counter', body: { organisation_id: deps.homeOrganisationId, terms, ...(comment === undefined ? {} : { comment }) } },
    (raw): CounterProposal => {
      if (!isRecord(raw)) throw unreadable(link, action, 'the counter-proposal it recorded');
      const basedOn = raw['based_on_version'];
      const proposedAt = raw['proposed_at'];
      const said = raw['comment'];
      if (typeof basedOn !== 'number' || !Number.isSafeInteger(basedOn) || basedOn < 1 || !isInstant(proposedAt)) throw unreadable(link, action, 'the counter-proposal it recorded');
      const parsed = parseAgreement({ circle_id: circleId, version: basedOn, proposed_by: deps.homeOrganisationId, proposed_at: proposedAt, terms: raw['terms'] });
      if (!parsed.ok) throw unreadable(link, action, 'readable terms');
      return { circleId, organisationId: deps.homeOrganisationId, basedOnVersion: basedOn, terms: parsed.value.terms, ...(typeof said === 'string' ? { comment: said } : {}), proposedAt };
    },
    async (client, counter) => {
      await deps.store.addCounterProposal(counter);
      await mirrorCircle(deps, client, circleId, link.coordinatorId);
    },
  );
  return { counter: answer, forwarded };
}

/** Reads and writes of the leave on a mirrored circle, when another process changes the circle in between. */
const LEAVE_WRITE_ATTEMPTS = 3;

/**
 * The home organisation leaves. On a mirrored circle: on the coordinator's node (which queues the
 * recalls its terms call for); the coordinator shows the circle no more to a member that left, so
 * the mirror records the leave itself, at the instant the coordinator answered. Otherwise leave.
 */
export async function leaveOrForward(deps: CoordinatorLinkDeps, actor: CircleActor, circleId: string, organisationId: string): Promise<LeaveOutcome> {
  const holding = await circleHolding(deps, circleId);
  if (holding.kind === 'here') {
    const left = await leave(deps, actor, circleId, organisationId);
    const leftAt = left.circle.members.find((member) => member.organisationId === organisationId)?.leftAt;
    return { organisationId, recalls: left.recalls, leftAt, forwarded: undefined };
  }
  const link = await linkFor(deps, actor, circleId, organisationId, holding);
  const action = `leave circle ${circleId}`;
  const { answer, forwarded } = await onCoordinator(
    deps,
    link,
    action,
    { path: 'leave', body: { organisation_id: deps.homeOrganisationId } },
    (raw) => {
      const recalls = isRecord(raw) ? raw['recall_notices_queued'] : undefined;
      const leftAt = isRecord(raw) ? raw['left_at'] : undefined;
      if (!isCount(recalls)) throw unreadable(link, action, 'the recall notices it queued');
      // A coordinator that does not say when (an older node) is taken to have answered now.
      return { recalls, leftAt: isInstant(leftAt) ? new Date(leftAt).toISOString() : deps.clock().toISOString() };
    },
    async (_client, left) => {
      // Written only over the circle it was read as (updateCircle's expected): the node's mirror
      // refresh may write between the read and the write (a member's leave), which a write of the
      // circle as read would undo. The coordinator decided the leave already: read again, apply again.
      for (let attempt = 1; ; attempt += 1) {
        const circle = await deps.store.getCircle(circleId);
        if (circle === undefined) return;
        const changed = leaveCircle(circle, deps.homeOrganisationId, new Date(left.leftAt));
        if (!changed.ok) throw new EntenteError(changed.error.code, changed.error.message, { circleId });
        try {
          await deps.store.updateCircle(changed.value, deps.clock(), circle);
          return;
        } catch (error: unknown) {
          if (attempt >= LEAVE_WRITE_ATTEMPTS || !(isEntenteError(error) && error.code === 'ENT_STORE_UNAVAILABLE')) throw error;
        }
      }
    },
  );
  return { organisationId, recalls: answer.recalls, leftAt: answer.leftAt, forwarded };
}
