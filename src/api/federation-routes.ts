import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readHomeOrganisation } from '../bootstrap-node.ts';
import { EntenteError } from '../errors/entente-error.ts';
import { toNodeIdentityDocument } from '../federation/node-identity.ts';
import {
  dropQuarantinedItem,
  parseQuarantineSeq,
  releaseQuarantinedItem,
  requireQuarantined,
  toQuarantineFilter,
  toQuarantineJson,
} from '../federation/quarantine-operations.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { badField, bodyOf, sendJson } from './json-body.ts';

export interface FederationRouteContext {
  readonly store: ObjectStore;
  readonly clock: () => Date;
}

interface SeqParams {
  seq: string;
}

const LIST_PARAMETERS = ['peer', 'reason', 'all', 'after', 'limit'];

/** A query parameter given once, as text; a repeated or unknown parameter is refused. */
function queryOf(request: FastifyRequest): Record<string, string> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!LIST_PARAMETERS.includes(key)) throw badField(key.slice(0, 64), `unknown parameter "${key.slice(0, 64)}"; this route takes ${LIST_PARAMETERS.join(', ')}`);
    if (typeof value !== 'string') throw badField(key, `"${key}" must be given once`);
    values[key] = value;
  }
  return values;
}

function seqOf(request: FastifyRequest<{ Params: SeqParams }>): number {
  const parsed = parseQuarantineSeq(request.params.seq);
  // Not a number, or beyond any sequence: the same 404 as an item that does not exist.
  if (!parsed.ok) throw new EntenteError('ENT_QUARANTINE_NOT_FOUND', parsed.error);
  return parsed.value;
}

function actorOf(request: FastifyRequest): string {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'federation route reached without authentication');
  return `token:${request.auth.token.name}`;
}

function integerParameter(query: Record<string, string>, key: string): number | undefined {
  const text = query[key];
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw badField(key, `"${key}" must be a non-negative integer`);
  return Number(text);
}

/**
 * `GET /api/federation/node`: the node identity other Entente nodes pin keys from (any
 * authenticated token). `/api/quarantine`: what the arrival checks held back, for administrators:
 * list, show, release, drop.
 */
export function registerFederationRoutes(app: FastifyInstance, ctx: FederationRouteContext): void {
  const admin = { config: { policy: 'admin' as const, media: 'json' as const } };

  app.get('/api/federation/node', { config: { policy: 'authenticated', media: 'json' } }, async (_request, reply) => {
    const organisation = await readHomeOrganisation(ctx.store);
    if (organisation === undefined) throw new EntenteError('ENT_HTTP_INTERNAL', 'This node has no home organisation');
    return sendJson(reply, 200, toNodeIdentityDocument(organisation, await ctx.store.listNodeKeys()));
  });

  app.get('/api/quarantine', admin, async (request, reply) => {
    const query = queryOf(request);
    const all = query['all'];
    if (all !== undefined && all !== 'true' && all !== 'false') throw badField('all', '"all" must be true or false');
    const filter = toQuarantineFilter(
      { peer: query['peer'], reason: query['reason'], all: all === 'true', afterSeq: integerParameter(query, 'after'), limit: integerParameter(query, 'limit') },
      badField,
    );
    const items = await ctx.store.listQuarantine(filter);
    return sendJson(reply, 200, { items: items.map((item) => toQuarantineJson(item, false)) });
  });

  app.get<{ Params: SeqParams }>('/api/quarantine/:seq', admin, async (request, reply) =>
    sendJson(reply, 200, toQuarantineJson(await requireQuarantined(ctx.store, seqOf(request)), true)),
  );

  app.post<{ Params: SeqParams }>('/api/quarantine/:seq/release', admin, async (request, reply) => {
    bodyOf(request, []);
    const seq = seqOf(request);
    const outcome = await releaseQuarantinedItem(ctx.store, seq, actorOf(request), ctx.clock());
    if (outcome.kind === 'rejected') {
      throw new EntenteError(outcome.code, `quarantined item ${seq} stays quarantined: ${outcome.message}`, { seq });
    }
    return sendJson(reply, 200, toQuarantineJson(await requireQuarantined(ctx.store, seq), false));
  });

  app.post<{ Params: SeqParams }>('/api/quarantine/:seq/drop', admin, async (request, reply) => {
    bodyOf(request, []);
    const seq = seqOf(request);
    await dropQuarantinedItem(ctx.store, seq, actorOf(request), ctx.clock());
    return sendJson(reply, 200, toQuarantineJson(await requireQuarantined(ctx.store, seq), false));
  });
}
