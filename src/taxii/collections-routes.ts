import type { FastifyInstance } from 'fastify';
import { homeSightingsCollectionOf } from '../bootstrap-node.ts';
import { canReadCollection, canWriteCollection, type Recipient } from '../policy/recipient.ts';
import { toCollectionResource } from './taxii-resources.ts';
import { collectionOf, recipientOf, sendTaxii, type CollectionParams, type TaxiiRouteContext } from './taxii-route-context.ts';

/**
 * Collections (§5.1) and one collection (§5.2). The list holds only collections the token can read or
 * write. `can_write` (TAXII: may add objects) is false for the home sightings collection whatever the
 * grant: no TAXII POST is taken there (post-objects.ts refuseNodeWrittenCollection).
 */
export function registerCollectionsRoutes(app: FastifyInstance, ctx: TaxiiRouteContext): void {
  const mayAdd = async (recipient: Recipient): Promise<(collectionId: string) => boolean> => {
    const homeSightings = await homeSightingsCollectionOf(ctx.store);
    return (collectionId) => collectionId !== homeSightings && canWriteCollection(recipient, collectionId);
  };
  app.get(`${ctx.apiRootPath}collections/`, { config: { policy: 'authenticated', media: 'taxii' } }, async (request, reply) => {
    const recipient = recipientOf(request);
    const adds = await mayAdd(recipient);
    // Listed by the grant (a write grant alone on the home sightings collection still lists it), described as the node takes writes.
    const collections = (await ctx.store.listCollections())
      .map((record) => ({ record, read: canReadCollection(recipient, record.id), granted: canWriteCollection(recipient, record.id), write: adds(record.id) }))
      .filter(({ read, granted }) => read || granted)
      .map(({ record, read, write }) => toCollectionResource(record, read, write));
    return sendTaxii(reply, 200, collections.length === 0 ? '{}' : JSON.stringify({ collections }));
  });

  app.get<{ Params: CollectionParams }>(
    `${ctx.apiRootPath}collections/:collectionId/`,
    { config: { policy: 'collection-access', media: 'taxii' } },
    async (request, reply) => {
      const recipient = recipientOf(request);
      const record = collectionOf(request);
      const resource = toCollectionResource(record, canReadCollection(recipient, record.id), (await mayAdd(recipient))(record.id));
      return sendTaxii(reply, 200, JSON.stringify(resource));
    },
  );
}
