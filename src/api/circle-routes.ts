import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badField, bodyOf, optionalString, sendJson } from './json-body.ts';
import { EntenteError } from '../errors/entente-error.ts';
import {
  circleView,
  createCircle,
  end,
  invite,
  promote,
  proposeAgreement,
  visibleCircles,
  weaknessTotals,
  type AcceptedKey,
  type CircleActor,
  type CircleDeps,
} from '../circles/circle-operations.ts';
import { acceptOrForward, counterOrForward, leaveOrForward, type Forwarded } from '../federation/coordinator-link.ts';
import { parsePublishedKey } from '../federation/parse-circle-view.ts';
import type { OpenPeerClient } from '../federation/peer-operations.ts';
import { toAgreementDocument, toCircleDocument } from '../policy/circle-documents.ts';
import { visibleCounterProposals } from '../circles/counter-proposals.ts';
import type { CounterProposal } from '../store/object-store.ts';
import { visibleMembers } from '../policy/circle.ts';
import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';

interface CircleParams {
  circleId: string;
}

interface MemberParams extends CircleParams {
  organisationId: string;
}

export interface CircleRouteDeps extends CircleDeps {
  /** The TAXII client a mirrored circle's coordinator is reached with (its peer link). */
  readonly openClient: OpenPeerClient;
}

/** Said of an action carried out on the coordinator's node, in the answer. */
function forwardedJson(forwarded: Forwarded | undefined): Record<string, unknown> {
  if (forwarded === undefined) return {};
  return {
    forwarded_to: {
      peer: forwarded.peer,
      organisation_id: forwarded.coordinatorId,
      mirror_refreshed: forwarded.refreshError === undefined,
      ...(forwarded.refreshError === undefined ? {} : { refresh_error: forwarded.refreshError }),
    },
  };
}

function actorOf(request: FastifyRequest): CircleActor {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'circle route reached without authentication');
  return { organisationId: request.auth.recipient.organisationId, admin: request.auth.recipient.admin };
}




const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An organisation named in a body: a STIX identity id as circle documents hold it, never echoed back at length. */
function optionalOrganisation(body: Record<string, unknown>, key: string): string | undefined {
  const value = optionalString(body, key);
  if (value !== undefined && !IDENTITY_ID.test(value)) throw badField(key, `"${key}" must be a STIX identity id (identity--<uuid>, in lower case)`);
  return value;
}


const MAX_ACCEPTED_KEYS = 8;

/**
 * The member's public keys sent with an acceptance (`public_keys`: `[{key_id, public_key,
 * valid_from, valid_until?}]`, as GET /api/federation/node lists them); each key id must be its key's hash.
 */
function publicKeysOf(body: Record<string, unknown>, organisationId: string): AcceptedKey[] {
  const raw = Object.hasOwn(body, 'public_keys') ? body['public_keys'] : undefined;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_ACCEPTED_KEYS) throw badField('public_keys', `"public_keys" must be a list of at most ${MAX_ACCEPTED_KEYS} keys`);
  return raw.map((value: unknown, index) => {
    const key = parsePublishedKey(value, `public_keys[${index}]`, organisationId);
    if (!key.ok) throw badField('public_keys', key.error);
    return { keyId: key.value.keyId, publicKey: key.value.publicKey, validFrom: key.value.validFrom, validUntil: key.value.validUntil };
  });
}

/**
 * `/api/circles`: the circles a caller belongs to, and their lifecycle. Every route is
 * authenticated; the operations check who acts (coordinator, the member itself, or the node
 * administrator, who alone acts for the home organisation: its other tokens read), and a circle the caller is not in is the same 404 as one that does not exist.
 * On a circle mirrored from a coordinator's node, the home administrator's accept, counter and
 * leave are carried out on that node through the peer link (federation/coordinator-link.ts).
 */
export function registerCircleRoutes(app: FastifyInstance, deps: CircleRouteDeps): void {
  const authenticated = { config: { policy: 'authenticated' as const, media: 'json' as const } };

  app.get('/api/circles', authenticated, async (request, reply) => {
    const viewer = actorOf(request);
    const home = viewer.admin || viewer.organisationId === deps.homeOrganisationId;
    const circles = await visibleCircles(deps, viewer);
    return sendJson(reply, 200, {
      circles: circles.map((circle) => toCircleDocument(home ? circle : { ...circle, members: visibleMembers(circle, viewer.organisationId) })),
    });
  });

  // The circle document is checked field by field (unknown fields included) by createCircle.
  app.post('/api/circles', { config: { policy: 'admin', media: 'json' } }, async (request, reply) => {
    const circle = await createCircle(deps, request.body);
    return sendJson(reply, 201, toCircleDocument(circle));
  });

  app.get<{ Params: CircleParams }>('/api/circles/:circleId', authenticated, async (request, reply) =>
    sendJson(reply, 200, await circleView(deps, actorOf(request), request.params.circleId)),
  );

  const counterJson = (counter: CounterProposal): Record<string, unknown> => ({
    organisation_id: counter.organisationId,
    based_on_version: counter.basedOnVersion,
    terms: (toAgreementDocument({ circleId: counter.circleId, version: counter.basedOnVersion, proposedBy: counter.organisationId, proposedAt: counter.proposedAt, terms: counter.terms }) as { terms: unknown }).terms,
    ...(counter.comment === undefined ? {} : { comment: counter.comment }),
    proposed_at: counter.proposedAt,
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/counter', authenticated, async (request, reply) => {
    const actor = actorOf(request);
    const body = bodyOf(request, ['terms', 'comment', 'organisation_id']);
    const comment = optionalString(body, 'comment');
    // A wrong-typed organisation_id is refused, not read as "for myself".
    const organisationId = optionalOrganisation(body, 'organisation_id') ?? actor.organisationId;
    const outcome = await counterOrForward(deps, actor, request.params.circleId, organisationId, body['terms'], comment);
    return sendJson(reply, 201, { ...counterJson(outcome.counter), ...forwardedJson(outcome.forwarded) });
  });

  app.get<{ Params: CircleParams }>('/api/circles/:circleId/counters', authenticated, async (request, reply) => {
    const counters = await visibleCounterProposals(deps, actorOf(request), request.params.circleId);
    return sendJson(reply, 200, { counters: counters.map(counterJson) });
  });

  app.get<{ Params: CircleParams }>('/api/circles/:circleId/weaknesses', authenticated, async (request, reply) => {
    const totals = await weaknessTotals(deps, actorOf(request), request.params.circleId);
    return sendJson(reply, 200, {
      circle_id: totals.circleId,
      min_organisations: totals.minOrganisations,
      // Only for the home organisation (weaknessTotals leaves it out for partners).
      ...(totals.suppressedRows === undefined ? {} : { suppressed_rows: totals.suppressedRows }),
      cves: totals.cves,
      techniques: totals.techniques,
    });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/members', authenticated, async (request, reply) => {
    const body = bodyOf(request, ['organisation_id', 'role', 'trial']);
    const organisationId = optionalOrganisation(body, 'organisation_id');
    if (organisationId === undefined) throw badField('organisation_id', '"organisation_id" is required');
    const role = optionalString(body, 'role') ?? 'consumer';
    if (role !== 'coordinator' && role !== 'contributor' && role !== 'consumer') throw badField('role', '"role" must be coordinator, contributor or consumer');
    const trial = Object.hasOwn(body, 'trial') ? body['trial'] : false;
    if (typeof trial !== 'boolean') throw badField('trial', '"trial" must be true or false');
    const circle = await invite(deps, actorOf(request), request.params.circleId, { organisationId, role, trial });
    return sendJson(reply, 200, toCircleDocument(circle));
  });

  app.post<{ Params: MemberParams }>('/api/circles/:circleId/members/:organisationId/promote', authenticated, async (request, reply) => {
    const circle = await promote(deps, actorOf(request), request.params.circleId, request.params.organisationId);
    return sendJson(reply, 200, toCircleDocument(circle));
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/agreements', authenticated, async (request, reply) => {
    const agreement = await proposeAgreement(deps, actorOf(request), request.params.circleId, bodyOf(request, ['terms'])['terms']);
    return sendJson(reply, 201, { circle_id: agreement.circleId, version: agreement.version, proposed_at: agreement.proposedAt });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/accept', authenticated, async (request, reply) => {
    const actor = actorOf(request);
    const body = bodyOf(request, ['version', 'organisation_id', 'public_keys']);
    const version = body['version'];
    if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 1_000_000)) {
      throw badField('version', '"version" must be a positive integer (at most 1000000)');
    }
    const organisationId = optionalOrganisation(body, 'organisation_id') ?? actor.organisationId;
    const accepted = await acceptOrForward(deps, actor, request.params.circleId, organisationId, version, publicKeysOf(body, organisationId));
    return sendJson(reply, 200, {
      circle_id: request.params.circleId,
      organisation_id: organisationId,
      version: accepted.version,
      accepted_at: accepted.acceptedAt,
      ...forwardedJson(accepted.forwarded),
    });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/leave', authenticated, async (request, reply) => {
    const actor = actorOf(request);
    const organisationId = optionalOrganisation(bodyOf(request, ['organisation_id']), 'organisation_id') ?? actor.organisationId;
    const left = await leaveOrForward(deps, actor, request.params.circleId, organisationId);
    return sendJson(reply, 200, {
      circle_id: request.params.circleId,
      organisation_id: organisationId,
      recall_notices_queued: left.recalls,
      // A member's node records its leave at this instant in its mirror of the circle.
      ...(left.leftAt === undefined ? {} : { left_at: left.leftAt }),
      ...forwardedJson(left.forwarded),
    });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/end', authenticated, async (request, reply) => {
    const at = optionalString(bodyOf(request, ['at']), 'at');
    // Strictly a STIX timestamp: Date would read "2099", local times and February 30 as something.
    const micros = at === undefined ? undefined : parseMicroTimestamp(at);
    if (at !== undefined && micros === undefined) throw badField('at', '"at" must be an RFC 3339 timestamp in UTC such as 2026-12-31T00:00:00Z');
    const endAt = micros === undefined ? undefined : new Date(Math.floor(micros / 1000));
    const result = await end(deps, actorOf(request), request.params.circleId, endAt);
    return sendJson(reply, 200, { circle_id: result.circle.id, valid_until: result.circle.validUntil, recall_notices_queued: result.recalls });
  });
}
