import type { FastifyInstance } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { isStixId, parseTaxiiQuery } from './query-filters.ts';
import { badQuery, resolvePagedQuery } from './resolve-paged-query.ts';
import { dateAddedHeaders, dateAddedRangeHeaders, envelopeBody, objectsPageOf, versionsJson } from './taxii-resources.ts';
import {
  collectionOf,
  gateFor,
  objectNotFound,
  recipientOf,
  releaseObjectsPage,
  releasePage,
  sendTaxii,
  type CollectionParams,
  type ObjectParams,
  type TaxiiRequest,
  type TaxiiRouteContext,
} from './taxii-route-context.ts';
import type { ObjectsPost } from './post-objects.ts';
import { PAGE_NONCE_HEADER } from '../federation/page-voucher.ts';

/**
 * Objects (§5.4 get, §5.5 add), one object (§5.6 get, §5.7 delete) and its versions (§5.8).
 * Every entry leaves through the release decision; an object the caller may not see is the same 404
 * as an object that does not exist.
 */
export function registerObjectsRoutes(app: FastifyInstance, ctx: TaxiiRouteContext, postObjects: ObjectsPost): void {
  const objectsPath = `${ctx.apiRootPath}collections/:collectionId/objects/`;

  app.get<TaxiiRequest<CollectionParams>>(objectsPath, { config: { policy: 'collection-read', media: 'taxii' } }, async (request, reply) => {
    const collection = collectionOf(request);
    const query = resolvePagedQuery(request.query, 'objects', [collection.id], ctx.cursorKey);
    const gate = await gateFor(ctx, request, collection.id, ctx.clock());
    const page = await releaseObjectsPage(
      gate,
      { entries: (request) => ctx.store.listEntries(collection.id, query.filter, request), texts: (request) => ctx.store.listEntryTexts(collection.id, query.filter, request) },
      query.page,
    );
    const body = envelopeBody(page, query.cursor);
    // An Entente requester asks for the page to be signed (docs/federation.md, "Page vouching").
    const nonce = request.headers[PAGE_NONCE_HEADER];
    const vouching = ctx.pageVoucher === undefined || typeof nonce !== 'string'
      ? {}
      : await ctx.pageVoucher({ nonce, requesterOrganisationId: recipientOf(request).organisationId, collectionId: request.params.collectionId, body });
    return sendTaxii(reply, 200, body, { ...dateAddedRangeHeaders(page.firstDateAdded, page.lastDateAdded), ...vouching });
  });

  app.post<{ Params: CollectionParams; Body: unknown }>(
    objectsPath,
    { config: { policy: 'collection-write', media: 'taxii' } },
    async (request, reply) => {
      const collection = collectionOf(request);
      const auth = request.auth;
      const status = await postObjects({
        collectionId: collection.id,
        body: request.body,
        tokenName: auth === null ? '' : auth.token.name,
        recipient: recipientOf(request),
      });
      return sendTaxii(reply, 202, JSON.stringify(status));
    },
  );

  app.get<TaxiiRequest<ObjectParams>>(
    `${objectsPath}:objectId/`,
    { config: { policy: 'collection-read', media: 'taxii' } },
    async (request, reply) => {
      const collection = collectionOf(request);
      const { objectId } = request.params;
      const query = resolvePagedQuery(request.query, 'object', [collection.id, objectId], ctx.cursorKey);
      if (!isStixId(objectId)) throw objectNotFound(collection.id, objectId);
      // TAXII's default for this endpoint is the latest version; say so, whatever the store's default.
      const filter = { ...query.filter, versions: query.filter.versions ?? [{ kind: 'last' as const }] };
      const gate = await gateFor(ctx, request, collection.id, ctx.clock());
      const slice = await releasePage(gate, (page) => ctx.store.listVersions(collection.id, objectId, filter, page), query.page);
      // A later page may legitimately be empty; a first page with nothing the caller may see is a 404.
      if (slice.shared.length === 0 && query.page.after === undefined) throw objectNotFound(collection.id, objectId);
      return sendTaxii(reply, 200, envelopeBody(objectsPageOf(slice), query.cursor), dateAddedHeaders(slice.shared));
    },
  );

  app.delete<TaxiiRequest<ObjectParams>>(
    `${objectsPath}:objectId/`,
    { config: { policy: 'collection-write', media: 'taxii' } },
    async (request, reply) => {
      const collection = collectionOf(request);
      const { objectId } = request.params;
      const parsed = parseTaxiiQuery(request.query, 'deleteObject');
      if (!parsed.ok) throw badQuery(parsed.error);
      if (!isStixId(objectId)) throw objectNotFound(collection.id, objectId);
      // Deleting needs the object to be visible to the caller too: otherwise 200-versus-404 would tell a
      // write-only token which objects exist.
      const filter = { ...parsed.value.filter, versions: parsed.value.filter.versions ?? [{ kind: 'all' as const }] };
      const visible = await ctx.store.listVersions(collection.id, objectId, { ...filter, versions: [{ kind: 'all' }] }, { limit: 1000 });
      const gate = await gateFor(ctx, request, collection.id, ctx.clock(), { audit: false });
      const decisions = await Promise.all(visible.entries.map((entry) => gate.decide(entry)));
      if (!decisions.some((decision) => decision.kind !== 'withhold')) throw objectNotFound(collection.id, objectId);
      // Partners never delete from the node: in a circle that would take intelligence away from every
      // other member. A contributor retracts its own object the STIX way, by posting a revoked version.
      if (!recipientOf(request).actsForHome) {
        throw new EntenteError('ENT_AUTH_FORBIDDEN', `A partner organisation cannot delete objects; post a version with "revoked": true to retract ${objectId}`);
      }
      const removed = await ctx.store.deleteObject(collection.id, objectId, filter);
      if (removed === 0) throw objectNotFound(collection.id, objectId);
      // §5.7: success is a bare 200; there is no resource to return.
      return reply.code(200).send();
    },
  );

  app.get<TaxiiRequest<ObjectParams>>(
    `${objectsPath}:objectId/versions/`,
    { config: { policy: 'collection-read', media: 'taxii' } },
    async (request, reply) => {
      const collection = collectionOf(request);
      const { objectId } = request.params;
      const query = resolvePagedQuery(request.query, 'versions', [collection.id, objectId], ctx.cursorKey);
      if (!isStixId(objectId)) throw objectNotFound(collection.id, objectId);
      const filter = { ...query.filter, versions: [{ kind: 'all' as const }] };
      const gate = await gateFor(ctx, request, collection.id, ctx.clock(), { audit: false });
      const slice = await releasePage(gate, (page) => ctx.store.listVersions(collection.id, objectId, filter, page), query.page);
      if (slice.shared.length === 0 && query.page.after === undefined) throw objectNotFound(collection.id, objectId);
      return sendTaxii(reply, 200, versionsJson(slice, query.cursor), dateAddedHeaders(slice.shared));
    },
  );
}
