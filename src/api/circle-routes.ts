import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import {
  acceptAgreement,
  circleView,
  createCircle,
  end,
  invite,
  leave,
  promote,
  proposeAgreement,
  visibleCircles,
  weaknessTotals,
  type CircleActor,
  type CircleDeps,
} from '../circles/circle-operations.ts';
import { toCircleDocument } from '../policy/circle-documents.ts';
import { visibleMembers } from '../policy/circle.ts';

interface CircleParams {
  circleId: string;
}

interface MemberParams extends CircleParams {
  organisationId: string;
}

function actorOf(request: FastifyRequest): CircleActor {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'circle route reached without authentication');
  return { organisationId: request.auth.recipient.organisationId, admin: request.auth.recipient.admin };
}

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new EntenteError('ENT_INPUT_NOT_ENVELOPE', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EntenteError('ENT_HTTP_BAD_QUERY', `"${key}" must be a string`, { parameter: key });
  return value;
}

function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value));
}

/**
 * `/api/circles`: the circles a caller belongs to, and their lifecycle. Every route is
 * authenticated; the operations check who acts (coordinator, the member itself, or the node
 * administrator), and a circle the caller is not in is the same 404 as one that does not exist.
 */
export function registerCircleRoutes(app: FastifyInstance, deps: CircleDeps): void {
  const authenticated = { config: { policy: 'authenticated' as const, media: 'json' as const } };

  app.get('/api/circles', authenticated, async (request, reply) => {
    const viewer = actorOf(request);
    const home = viewer.admin || viewer.organisationId === deps.homeOrganisationId;
    const circles = await visibleCircles(deps, viewer);
    return sendJson(reply, 200, {
      circles: circles.map((circle) => toCircleDocument(home ? circle : { ...circle, members: visibleMembers(circle, viewer.organisationId) })),
    });
  });

  app.post('/api/circles', { config: { policy: 'admin', media: 'json' } }, async (request, reply) => {
    const circle = await createCircle(deps, request.body);
    return sendJson(reply, 201, toCircleDocument(circle));
  });

  app.get<{ Params: CircleParams }>('/api/circles/:circleId', authenticated, async (request, reply) =>
    sendJson(reply, 200, await circleView(deps, actorOf(request), request.params.circleId)),
  );

  app.get<{ Params: CircleParams }>('/api/circles/:circleId/weaknesses', authenticated, async (request, reply) => {
    const totals = await weaknessTotals(deps, actorOf(request), request.params.circleId);
    return sendJson(reply, 200, {
      circle_id: totals.circleId,
      min_organisations: totals.minOrganisations,
      suppressed_rows: totals.suppressedRows,
      cves: totals.cves,
      techniques: totals.techniques,
    });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/members', authenticated, async (request, reply) => {
    const body = bodyOf(request);
    const organisationId = optionalString(body, 'organisation_id');
    if (organisationId === undefined) throw new EntenteError('ENT_HTTP_BAD_QUERY', '"organisation_id" is required', { parameter: 'organisation_id' });
    const role = optionalString(body, 'role') ?? 'consumer';
    if (role !== 'coordinator' && role !== 'contributor' && role !== 'consumer') {
      throw new EntenteError('ENT_HTTP_BAD_QUERY', '"role" must be coordinator, contributor or consumer', { parameter: 'role' });
    }
    const trial = body['trial'] ?? false;
    if (typeof trial !== 'boolean') throw new EntenteError('ENT_HTTP_BAD_QUERY', '"trial" must be true or false', { parameter: 'trial' });
    const circle = await invite(deps, actorOf(request), request.params.circleId, { organisationId, role, trial });
    return sendJson(reply, 200, toCircleDocument(circle));
  });

  app.post<{ Params: MemberParams }>('/api/circles/:circleId/members/:organisationId/promote', authenticated, async (request, reply) => {
    const circle = await promote(deps, actorOf(request), request.params.circleId, request.params.organisationId);
    return sendJson(reply, 200, toCircleDocument(circle));
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/agreements', authenticated, async (request, reply) => {
    const agreement = await proposeAgreement(deps, actorOf(request), request.params.circleId, bodyOf(request)['terms']);
    return sendJson(reply, 201, { circle_id: agreement.circleId, version: agreement.version, proposed_at: agreement.proposedAt });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/accept', authenticated, async (request, reply) => {
    const actor = actorOf(request);
    const body = bodyOf(request);
    const version = body['version'];
    if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1)) {
      throw new EntenteError('ENT_HTTP_BAD_QUERY', '"version" must be a positive integer', { parameter: 'version' });
    }
    const organisationId = optionalString(body, 'organisation_id') ?? actor.organisationId;
    const accepted = await acceptAgreement(deps, actor, request.params.circleId, organisationId, version);
    return sendJson(reply, 200, { circle_id: request.params.circleId, organisation_id: organisationId, version: accepted.version, accepted_at: accepted.acceptedAt });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/leave', authenticated, async (request, reply) => {
    const actor = actorOf(request);
    const organisationId = optionalString(bodyOf(request), 'organisation_id') ?? actor.organisationId;
    const result = await leave(deps, actor, request.params.circleId, organisationId);
    return sendJson(reply, 200, { circle_id: result.circle.id, organisation_id: organisationId, recall_notices_queued: result.recalls });
  });

  app.post<{ Params: CircleParams }>('/api/circles/:circleId/end', authenticated, async (request, reply) => {
    const at = optionalString(bodyOf(request), 'at');
    const endAt = at === undefined ? undefined : new Date(at);
    if (endAt !== undefined && Number.isNaN(endAt.getTime())) throw new EntenteError('ENT_HTTP_BAD_QUERY', '"at" must be an RFC 3339 timestamp', { parameter: 'at' });
    const result = await end(deps, actorOf(request), request.params.circleId, endAt);
    return sendJson(reply, 200, { circle_id: result.circle.id, valid_until: result.circle.validUntil, recall_notices_queued: result.recalls });
  });
}
