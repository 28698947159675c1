import type { FastifyInstance } from 'fastify';
import { resolvePagedQuery } from './resolve-paged-query.ts';
import { dateAddedHeaders, manifestJson } from './taxii-resources.ts';
import {
  collectionOf,
  recipientOf,
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
      const query = resolvePagedQuery(request.query, 'manifest', [collection.id]);
      const page = await ctx.store.listEntries(collection.id, query.filter, query.page);
      const slice = releasePage(page, recipientOf(request), collection.id, ctx.clock());
      return sendTaxii(reply, 200, manifestJson(slice, query.fingerprint), dateAddedHeaders(slice.shared));
    },
  );
}
