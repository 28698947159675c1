import type { FastifyInstance } from 'fastify';
import { canReadCollection, canWriteCollection } from '../policy/recipient.ts';
import { toCollectionResource } from './taxii-resources.ts';
import { collectionOf, recipientOf, sendTaxii, type CollectionParams, type TaxiiRouteContext } from './taxii-route-context.ts';

/** Collections (§5.1) and one collection (§5.2). The list holds only collections the token can read or write. */
export function registerCollectionsRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  app.get(`${ctx.apiRootPath}collections/`, { config: { policy: 'authenticated', media: 'taxii' } }, async (request, reply) => {
    const recipient = recipientOf(request);
    const collections = (await ctx.store.listCollections())
      .map((record) => ({ record, read: canReadCollection(recipient, record.id), write: canWriteCollection(recipient, record.id) }))
      .filter(({ read, write }) => read || write)
      .map(({ record, read, write }) => toCollectionResource(record, read, write));
    return sendTaxii(reply, 200, collections.length === 0 ? '{}' : JSON.stringify({ collections }));
  });

  app.get<{ Params: CollectionParams }>(
    `${ctx.apiRootPath}collections/:collectionId/`,
    { config: { policy: 'collection-access', media: 'taxii' } },
    async (request, reply) => {
      const recipient = recipientOf(request);
      const record = collectionOf(request);
      const resource = toCollectionResource(record, canReadCollection(recipient, record.id), canWriteCollection(recipient, record.id));
      return sendTaxii(reply, 200, JSON.stringify(resource));
    },
  );
}
