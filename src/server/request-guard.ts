import type { FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import type { CollectionStore } from '../store/object-store.ts';
import { isTaxiiAcceptable, isTaxiiContentType, TAXII_MEDIA_TYPE } from '../taxii/taxii-media-types.ts';
import type { TokenAuthenticator } from './authenticate.ts';
import { decideCollectionAccess } from './route-policy.ts';
import { localUploadPlaces, UPLOAD_PLACE_WAIT_MS, type UploadPlaces } from './upload-places.ts';

export interface RequestGuardDeps {
  readonly authenticator: TokenAuthenticator;
  readonly collections: CollectionStore;
  /** Bounds the uploads each token has under way; none when absent. */
  readonly uploads?: UploadLimiter;
}

export interface UploadLimiter {
  /**
   * Counts an upload (a request with a body of more than UPLOAD_MIN_BYTES) against its token until
   * it is answered or its connection closes, or refuses it: 429 ENT_HTTP_TOO_MANY_UPLOADS, or 503
   * ENT_HTTP_UPLOAD_UNCOUNTED when the count (the primary's, with workers) did not answer in time
   * (the promise rejects). Counted in this process at once, before the promise settles.
   */
  admit(tokenKey: string, reply: FastifyReply): Promise<void>;
}

/** Seconds a refused upload is told to wait (Retry-After): uploads under way take seconds to arrive and be stored. */
export const UPLOAD_RETRY_AFTER_S = 5;

/**
 * Per token, the uploads under way (bodies of more than UPLOAD_MIN_BYTES), counted from their headers (before the body is
 * read) to their answer: an authenticated client could otherwise send as many 64 MiB bodies at
 * once as it can open connections, and have the node hold them all. Counted where `places` says:
 * in this process by default, node-wide with `--workers N` (upload-places.ts).
 */
export function createUploadLimiter(maxPerToken: number, places: UploadPlaces = localUploadPlaces(maxPerToken)): UploadLimiter {
  return {
    async admit(tokenKey, reply) {
      const answer = await places.take(tokenKey);
      if (!answer.taken) {
        void reply.header('retry-after', String(UPLOAD_RETRY_AFTER_S));
        // Closed after the answer, so that the rest of the body is not read (Node reads what an
        // answered request left unread, to keep the connection for the next one). Not when it has
        // all come: requests pipelined behind it may be handled already, and their answers would be
        // lost. Known once the read that brought its headers is parsed (Node runs this between its
        // headers and its body), hence the wait.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!reply.request.raw.complete) void reply.header('connection', 'close');
        if (answer.reason === 'unanswered') {
          throw new EntenteError('ENT_HTTP_UPLOAD_UNCOUNTED', `The node could not count this upload (a request body of more than ${UPLOAD_MIN_BYTES} bytes) against its token's bound (maxUploadsPerToken) within ${UPLOAD_PLACE_WAIT_MS} ms; nothing of it was kept: send it again shortly`, { limit: maxPerToken });
        }
        throw new EntenteError('ENT_HTTP_TOO_MANY_UPLOADS', `This token already has ${answer.underWay} uploads (request bodies of more than ${UPLOAD_MIN_BYTES} bytes) under way, as many as the node allows at once (maxUploadsPerToken); send this one again once one of them is answered`, { limit: maxPerToken });
      }
      // Given back once answered: the rest of a body refused before it all came is discarded as it
      // arrives (within the request limit), not held. Or once its connection closes: an answer
      // queued behind an earlier one of its connection (pipelining) is told neither 'finish' nor
      // 'close' by Node when the connection goes, and its place would be lost for good.
      const response = reply.raw;
      const socket = reply.request.raw.socket;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        response.off('finish', settle).off('close', settle);
        socket.off('close', settle);
        places.give(tokenKey);
      };
      // Closed while the place was asked for (from the primary): no event is left to give it back.
      if (socket.destroyed) {
        settle();
        return;
      }
      response.once('finish', settle).once('close', settle);
      // Removed again on settling: a kept-alive connection carries many uploads, one after another.
      socket.once('close', settle);
    },
  };
}

/**
 * Bodies of at most this many bytes, declared so, are not counted as uploads: an analyst's decision
 * on a draft item or a small TAXII POST, which a console or script may send several of at once.
 * However many connections carry them, they hold at most maxConnections times this (64 MiB).
 */
export const UPLOAD_MIN_BYTES = 64 * 1024;

/** Whether a request comes with an upload: a body longer than UPLOAD_MIN_BYTES, or of a length not declared (chunked). */
function isUpload(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (request.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && !(/^\d{1,6}$/.test(length) && Number(length) <= UPLOAD_MIN_BYTES);
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
      // Before anything else is asked of the request, so that a refused upload's body is not read.
      if (deps.uploads !== undefined && isUpload(request)) await deps.uploads.admit(auth.token.secretHash, reply);
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
