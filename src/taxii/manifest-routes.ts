import type { FastifyInstance } from 'fastify';
import { resolvePagedQuery } from './resolve-paged-query.ts';
import { dateAddedHeaders, manifestJson } from './taxii-resources.ts';
import {
  collectionOf,
  gateFor,
  releasePage,
  sendTaxii,
  type CollectionParams,
  type TaxiiRequest,
  type TaxiiRouteContext,
} from './taxii-route-context.ts';

/** Manifest (§5.6): id, date_added, version and media type of each object version the caller may see. */
export function registerManifestRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  app.get<TaxiiRequest<CollectionParams>>(
    `${ctx.apiRootPath}collections/:collectionId/manifest/`,
    { config: { policy: 'collection-read', media: 'taxii' } },
    async (request, reply) => {
      const collection = collectionOf(request);
      const query = resolvePagedQuery(request.query, 'manifest', [collection.id], ctx.cursorKey);
      const gate = await gateFor(ctx, request, collection.id, ctx.clock(), { audit: false });
      const slice = await releasePage(gate, (page) => ctx.store.listEntries(collection.id, query.filter, page), query.page);
      return sendTaxii(reply, 200, manifestJson(slice, query.cursor), dateAddedHeaders(slice.shared));
    },
  );
}
