import type { FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import type { CollectionStore } from '../store/object-store.ts';
import { isTaxiiAcceptable, isTaxiiContentType, TAXII_MEDIA_TYPE } from '../taxii/taxii-media-types.ts';
import type { TokenAuthenticator } from './authenticate.ts';
import { decideCollectionAccess } from './route-policy.ts';

export interface RequestGuardDeps {
  readonly authenticator: TokenAuthenticator;
  readonly collections: CollectionStore;
}

function collectionIdOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || !('collectionId' in params)) return undefined;
  return typeof params.collectionId === 'string' ? params.collectionId : undefined;
}

function hiddenCollection(collectionId: string): EntenteError {
  return new EntenteError('ENT_COLLECTION_NOT_FOUND', `No collection ${collectionId}`, { collection_id: collectionId });
}

/**
 * The onRequest hook that enforces each route's declared policy before the body is read:
 * authentication, then TAXII content negotiation, then the collection grant. It fails closed: a
 * matched route without a declared policy is refused (the route-policy test keeps that from shipping).
 */
export function createRequestGuard(deps: RequestGuardDeps) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('x-request-id', request.id);
    const config = request.routeOptions.config;
    const policy = config.policy;
    if (policy === undefined) {
      if (request.is404) return;
      throw new EntenteError('ENT_HTTP_INTERNAL', 'route has no declared access policy');
    }
    if (policy !== 'public') {
      const auth = await deps.authenticator.authenticate(request.headers.authorization);
      request.auth = auth;
      if (policy === 'admin' && !auth.token.admin) {
        throw new EntenteError('ENT_AUTH_FORBIDDEN', 'This endpoint needs an administrator token');
      }
    }
    if (config.media === 'taxii') {
      if (!isTaxiiAcceptable(request.headers.accept)) {
        throw new EntenteError('ENT_HTTP_NOT_ACCEPTABLE', `The Accept header must allow ${TAXII_MEDIA_TYPE}`, {
          accept: request.headers.accept ?? '',
        });
      }
      if (request.method === 'POST' && !isTaxiiContentType(request.headers['content-type'])) {
        throw new EntenteError('ENT_HTTP_UNSUPPORTED_MEDIA_TYPE', `The Content-Type must be ${TAXII_MEDIA_TYPE}`, {
          content_type: request.headers['content-type'] ?? '',
        });
      }
    }
    if (policy === 'collection-access' || policy === 'collection-read' || policy === 'collection-write') {
      const collectionId = collectionIdOf(request.params);
      const auth = request.auth;
      if (collectionId === undefined || auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'collection route without collection');
      const access = decideCollectionAccess(auth.recipient, collectionId, policy);
      if (access === 'hidden') throw hiddenCollection(collectionId);
      const collection = await deps.collections.getCollection(collectionId);
      if (collection === undefined) throw hiddenCollection(collectionId);
      if (access === 'forbidden') {
        throw policy === 'collection-write'
          ? new EntenteError('ENT_COLLECTION_NOT_WRITABLE', `This token may not add to or delete from collection ${collectionId}`, { collection_id: collectionId })
          : new EntenteError('ENT_COLLECTION_NOT_READABLE', `This token may not read collection ${collectionId}`, { collection_id: collectionId });
      }
      request.collection = collection;
    }
  };
}
