import type { FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';
import type { Recipient } from '../policy/recipient.ts';
import { openReleaseGate, type ReleaseGate, type ReleaseGateOptions, type ReleaseSigner } from '../release/open-release-gate.ts';
import type { CollectionRecord, EntryTextPage, ObjectStore, Page, PageRequest, StoredEntry } from '../store/object-store.ts';
import type { CursorKey } from './cursor.ts';
import type { RawQuery } from './query-filters.ts';
import { objectsPageOf, type ObjectsPage, type PageSlice } from './taxii-resources.ts';
import type { PageVoucher } from '../federation/page-voucher.ts';
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
  /** Seals every TAXII `next` cursor (cursor.ts); the node's key from its meta (cursor-key.ts). */
  readonly cursorKey: CursorKey;
  /** Signs what leaves for partners (federation/sign-releases.ts); absent: entries leave as stored. */
  readonly releaseSigner?: ReleaseSigner;
  /** Signs object pages for Entente requesters that ask (federation/page-voucher.ts); absent: never. */
  readonly pageVoucher?: PageVoucher;
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

/**
 * The release gate for this request's recipient on this collection, at the request's instant. Paths
 * that return objects (audited) sign what leaves for partners; those that only name ids and versions
 * (manifest, versions, status) sign nothing.
 */
export function gateFor(
  ctx: TaxiiRouteContext,
  request: FastifyRequest,
  collectionId: string,
  at: Date,
  options: ReleaseGateOptions = {},
): Promise<ReleaseGate> {
  const signing = options.audit !== false && ctx.releaseSigner !== undefined ? { signer: ctx.releaseSigner } : {};
  return openReleaseGate(ctx.store, recipientOf(request), collectionId, at, { ...options, ...signing });
}

/**
 * Rounds of store pages one request may read to fill a page when the release decision withholds
 * entries, and again to look ahead for the next entry it releases. A page may then come back shorter
 * than `limit`, even empty (TAXII allows it), with `more` and a cursor, so paging stays keyset-bound
 * and never skips or repeats.
 */
const MAX_PAGE_ROUNDS = 8;

/** Entries a look-ahead lists first: after a full page the next entry is usually one the caller may see. */
const LOOKAHEAD_FIRST = 8;

/**
 * Fills one TAXII page from the store through the release gate. `more` then says whether a later
 * entry would be released to the caller (a look-ahead, decided without audit), and the cursor points
 * just before that entry: a page never admits to entries the caller may not see, and the cursor never
 * carries the date_added of a withheld one. Only when the look-ahead runs out of rounds too is the
 * answer `more` with a cursor after the last entry examined, so that paging still moves on: that
 * position may be a withheld entry's date_added, which is why cursors are sealed (cursor.ts).
 */
export async function releasePage(gate: ReleaseGate, fetch: (page: PageRequest) => Promise<Page>, request: PageRequest): Promise<PageSlice> {
  const shared: StoredEntry[] = [];
  let after = request.after;
  let more = true;
  let unexamined: readonly StoredEntry[] = [];
  for (let round = 0; round < MAX_PAGE_ROUNDS && more && shared.length < request.limit; round += 1) {
    const page = await fetch(after === undefined ? { limit: request.limit } : { limit: request.limit, after });
    const { released, consumed } = await gate.release(page.entries, request.limit - shared.length);
    for (const entry of released) shared.push(entry);
    const lastConsumed = page.entries[consumed - 1];
    if (lastConsumed !== undefined) after = lastConsumed.dateAdded;
    more = page.more || consumed < page.entries.length;
    unexamined = page.entries.slice(consumed);
  }
  if (!more || gate.sharesEveryEntry) return { shared, more, lastDateAdded: after };
  const next = await nextReleased(gate, fetch, unexamined, after, request.limit);
  if (next === 'none') return { shared, more: false, lastDateAdded: after };
  if (next === 'unknown') return { shared, more: true, lastDateAdded: after };
  // The caller receives `next` on the next page, date_added included: pointing just before it tells nothing more.
  return { shared, more: true, lastDateAdded: next.dateAdded - 1 };
}

/** The first entry after `after` the gate would release, 'none' when there is none, 'unknown' when the rounds ran out first. */
async function nextReleased(
  gate: ReleaseGate,
  fetch: (page: PageRequest) => Promise<Page>,
  unexamined: readonly StoredEntry[],
  after: number | undefined,
  limit: number,
): Promise<StoredEntry | 'none' | 'unknown'> {
  let candidates = unexamined;
  let position = after;
  let more = true;
  for (let round = 0; round <= MAX_PAGE_ROUNDS; round += 1) {
    for (const entry of candidates) {
      if ((await gate.decide(entry)).kind !== 'withhold') return entry;
      position = entry.dateAdded;
    }
    if (!more || round === MAX_PAGE_ROUNDS) break;
    const size = round === 0 ? Math.min(LOOKAHEAD_FIRST, limit) : limit;
    const page = await fetch(position === undefined ? { limit: size } : { limit: size, after: position });
    candidates = page.entries;
    more = page.more;
    if (candidates.length === 0) break;
  }
  return more ? 'unknown' : 'none';
}

/**
 * One page of objects for the envelope. When the decision shares every entry with the reader
 * (gate.sharesEveryEntry), the store's texts are the page as they are; otherwise each entry passes
 * the gate (releasePage).
 */
export async function releaseObjectsPage(
  gate: ReleaseGate,
  fetch: { readonly entries: (page: PageRequest) => Promise<Page>; readonly texts: (page: PageRequest) => Promise<EntryTextPage> },
  request: PageRequest,
): Promise<ObjectsPage> {
  if (!gate.sharesEveryEntry) return objectsPageOf(await releasePage(gate, fetch.entries, request));
  const page = await fetch.texts(request);
  return {
    objectTexts: page.objectsJson === '' ? [] : [page.objectsJson],
    firstDateAdded: page.firstDateAdded,
    lastDateAdded: page.lastDateAdded,
    more: page.more,
    cursorDateAdded: page.lastDateAdded ?? request.after,
  };
}

const asIs = (payload: string): string => payload;

/**
 * Sends a TAXII body with the media type exactly as the spec writes it. The pass-through serializer
 * stops fastify from rewriting the header (it would quote the version and append a charset, which
 * some TAXII clients compare as a string and reject).
 */
export function sendTaxii(reply: FastifyReply, statusCode: number, json: string | Buffer, headers?: Record<string, string>): FastifyReply {
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
