import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { decideRelease } from '../policy/decide-release.ts';
import { canReadCollection } from '../policy/recipient.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { parseSearchQuery, type RawSearchQuery } from './parse-search-query.ts';

export interface SearchRouteContext {
  readonly store: ObjectStore;
  readonly clock: () => Date;
}

/**
 * `GET /api/search?q=…&type=…&limit=…`: full-text search over the collections the caller can read.
 * Each hit passes the release decision; the response carries each object's stored JSON untouched.
 */
export function registerSearchRoutes(app: FastifyInstance, ctx: SearchRouteContext): void {
  app.get<{ Querystring: RawSearchQuery }>('/api/search', { config: { policy: 'authenticated', media: 'json' } }, async (request, reply) => {
    const auth = request.auth;
    if (auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'search reached without authentication');
    const parsed = parseSearchQuery(request.query);
    if (!parsed.ok) {
      throw new EntenteError('ENT_SEARCH_INVALID', parsed.error.message, { parameter: parsed.error.parameter });
    }
    const recipient = auth.recipient;
    const collectionIds = (await ctx.store.listCollections()).map((c) => c.id).filter((id) => canReadCollection(recipient, id));
    const hits = await ctx.store.search({ ...parsed.value, collectionIds });
    const at = ctx.clock();
    const shared = hits.filter((hit) => decideRelease(hit, recipient, { collectionId: hit.collectionId }, at).kind === 'share');
    const results = shared.map(
      (hit) =>
        `{"id":${JSON.stringify(hit.id)},"type":${JSON.stringify(hit.type)},"version":${JSON.stringify(hit.version)},` +
        `"name":${hit.name === undefined ? 'null' : JSON.stringify(hit.name)},"collection_id":${JSON.stringify(hit.collectionId)},` +
        `"rank":${Number.isFinite(hit.rank) ? hit.rank : 0},"object":${hit.json}}`,
    );
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .send(`{"query":${JSON.stringify(parsed.value.text)},"count":${results.length},"results":[${results.join(',')}]}`);
  });
}
