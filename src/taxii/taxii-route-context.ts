import type { FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import { releasable } from '../policy/decide-release.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { CollectionRecord, ObjectStore, Page } from '../store/object-store.ts';
import type { RawQuery } from './query-filters.ts';
import type { PageSlice } from './taxii-resources.ts';
import { TAXII_MEDIA_TYPE } from './taxii-media-types.ts';

/** What the TAXII routes need from the composition root. */
export interface TaxiiRouteContext {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly title: string;
  readonly description: string | undefined;
  /** URL path of the one API root, with leading and trailing slash: `/taxii2/api/`. */
  readonly apiRootPath: string;
  readonly maxBodyBytes: number;
}

export interface CollectionParams {
  collectionId: string;
}

export interface ObjectParams {
  collectionId: string;
  objectId: string;
}

export interface TaxiiRequest<Params> {
  Params: Params;
  Querystring: RawQuery;
}

/** The recipient the request guard authenticated; absent only on public routes, which never call this. */
export function recipientOf(request: FastifyRequest): Recipient {
  if (request.auth === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'route reached without authentication');
  return request.auth.recipient;
}

/** The collection the request guard resolved and authorised for a collection-* route. */
export function collectionOf(request: FastifyRequest): CollectionRecord {
  if (request.collection === null) throw new EntenteError('ENT_HTTP_INTERNAL', 'collection route reached without its collection');
  return request.collection;
}

/** Passes one store page through the release decision, keeping the keyset position of the raw page. */
export function releasePage(page: Page, recipient: Recipient, collectionId: string, at: Date): PageSlice {
  const last = page.entries[page.entries.length - 1];
  return {
    shared: releasable(page.entries, recipient, { collectionId }, at),
    more: page.more,
    lastDateAdded: last?.dateAdded,
  };
}

const asIs = (payload: string): string => payload;

/**
 * Sends a TAXII body with the media type exactly as the spec writes it. The pass-through serializer
 * stops fastify from rewriting the header (it would quote the version and append a charset, which
 * some TAXII clients compare as a string and reject).
 */
export function sendTaxii(reply: FastifyReply, statusCode: number, json: string, headers?: Record<string, string>): FastifyReply {
  reply.code(statusCode).header('content-type', TAXII_MEDIA_TYPE).serializer(asIs);
  if (headers !== undefined) reply.headers(headers);
  return reply.send(json);
}

/** The same 404 for an object that does not exist and one the release decision withholds. */
export function objectNotFound(collectionId: string, objectId: string): EntenteError {
  return new EntenteError('ENT_OBJECT_NOT_FOUND', `No object ${objectId} in collection ${collectionId}`, {
    collection_id: collectionId,
    object_id: objectId,
  });
}
