import type { CollectionRecord, StatusDetail, StatusRecord, StoredEntry } from '../store/object-store.ts';
import { encodeCursor, type QueryCursor } from './cursor.ts';
import { formatMicroTimestamp } from '../stix/micro-timestamp.ts';
import { stixMediaType, TAXII_MEDIA_TYPE } from './taxii-media-types.ts';

/**
 * TAXII 2.1 resources as JSON text. Pure. Envelopes are built by concatenating each entry's stored
 * JSON text: objects are never parsed and re-serialised on the read path (that is what makes paging
 * fast), and the bytes a client receives are the bytes that were signed and stored.
 */

export interface PageSlice {
  /** Entries the release decision shares, in store order. */
  readonly shared: readonly StoredEntry[];
  /** Whether the store has more entries after this page. */
  readonly more: boolean;
  /** dateAdded of the last entry the store returned (shared or not): where the next page starts. */
  readonly lastDateAdded: number | undefined;
}

/** `more`, and `next` sealed for the query (cursor.ts): base64url, so it needs no JSON escaping. */
function moreAndNext(slice: Pick<PageSlice, 'more' | 'lastDateAdded'>, cursor: QueryCursor): string {
  if (!slice.more || slice.lastDateAdded === undefined) return '"more":false';
  return `"more":true,"next":"${encodeCursor(slice.lastDateAdded, cursor)}"`;
}

/**
 * A page of objects as the envelope carries them, from either pager: the texts the release decision
 * shares, and the dateAdded range of what it shares and of what it examined.
 */
export interface ObjectsPage {
  /**
   * The shared entries' JSON texts, in order; the envelope joins them with commas. The home readers'
   * pager gives its page as one text already joined.
   */
  readonly objectTexts: readonly string[];
  /** dateAdded of the first and last shared entry (the X-TAXII-Date-Added-First/Last headers). */
  readonly firstDateAdded: number | undefined;
  readonly lastDateAdded: number | undefined;
  readonly more: boolean;
  /** dateAdded of the last entry examined, shared or not: where the next page starts. */
  readonly cursorDateAdded: number | undefined;
}

export function objectsPageOf(slice: PageSlice): ObjectsPage {
  const objectTexts = new Array<string>(slice.shared.length);
  for (let i = 0; i < slice.shared.length; i += 1) objectTexts[i] = (slice.shared[i] as StoredEntry).json;
  return {
    objectTexts,
    firstDateAdded: slice.shared[0]?.dateAdded,
    lastDateAdded: slice.shared[slice.shared.length - 1]?.dateAdded,
    more: slice.more,
    cursorDateAdded: slice.lastDateAdded,
  };
}

const COMMA = Buffer.from(',');
const OBJECTS_END = Buffer.from(']}');

/**
 * Envelope (§3.7): `{"more":…,"next":…,"objects":[…]}`; `objects` is left out when empty. Made as
 * bytes from each text's own bytes, never as one string: a page is about a megabyte, and a string
 * that size (the joined texts, then its flat copy when it is hashed for page vouching, then its
 * UTF-8 copy when it is written) costs a fresh allocation each time, where small buffers come from
 * Node's pool and one buffer is written and hashed as it is. A node serving a sync sends thousands.
 */
export function envelopeBody(page: ObjectsPage, cursor: QueryCursor): Buffer {
  const head = '{' + moreAndNext({ more: page.more, lastDateAdded: page.cursorDateAdded }, cursor);
  const texts = page.objectTexts;
  if (texts.length === 0) return Buffer.from(head + '}');
  const parts = new Array<Buffer>(2 * texts.length + 1);
  parts[0] = Buffer.from(head + ',"objects":[');
  for (let i = 0; i < texts.length; i += 1) {
    parts[2 * i + 1] = Buffer.from(texts[i] as string);
    parts[2 * i + 2] = i === texts.length - 1 ? OBJECTS_END : COMMA;
  }
  return Buffer.concat(parts);
}

/** Manifest (§5.6): one record per object version, with the store's date_added. */
export function manifestJson(slice: PageSlice, cursor: QueryCursor): string {
  const head = '{' + moreAndNext(slice, cursor);
  if (slice.shared.length === 0) return head + '}';
  const records = slice.shared.map(
    (entry) =>
      `{"id":${JSON.stringify(entry.id)},"date_added":"${formatMicroTimestamp(entry.dateAdded)}",` +
      `"version":${JSON.stringify(entry.version)},"media_type":"${stixMediaType(entry.specVersion)}"}`,
  );
  return head + ',"objects":[' + records.join(',') + ']}';
}

/** Versions (§5.8): `{"more":…,"versions":[…]}`. */
export function versionsJson(slice: PageSlice, cursor: QueryCursor): string {
  const head = '{' + moreAndNext(slice, cursor);
  if (slice.shared.length === 0) return head + '}';
  return head + ',"versions":[' + slice.shared.map((entry) => JSON.stringify(entry.version)).join(',') + ']}';
}

/** X-TAXII-Date-Added-First/Last (§3.3.2): the date_added of the first and last object returned. */
export function dateAddedHeaders(shared: readonly StoredEntry[]): Record<string, string> {
  return dateAddedRangeHeaders(shared[0]?.dateAdded, shared[shared.length - 1]?.dateAdded);
}

export function dateAddedRangeHeaders(first: number | undefined, last: number | undefined): Record<string, string> {
  if (first === undefined || last === undefined) return {};
  return {
    'x-taxii-date-added-first': formatMicroTimestamp(first),
    'x-taxii-date-added-last': formatMicroTimestamp(last),
  };
}

export interface CollectionResource {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly alias?: string;
  readonly can_read: boolean;
  readonly can_write: boolean;
  readonly media_types: readonly string[];
}

export function toCollectionResource(record: CollectionRecord, canRead: boolean, canWrite: boolean): CollectionResource {
  return {
    id: record.id,
    title: record.title,
    ...(record.description === undefined ? {} : { description: record.description }),
    ...(record.alias === undefined ? {} : { alias: record.alias }),
    can_read: canRead,
    can_write: canWrite,
    media_types: record.mediaTypes.length > 0 ? record.mediaTypes : [stixMediaType('2.1')],
  };
}

export interface StatusResource {
  readonly id: string;
  readonly status: 'pending' | 'complete';
  readonly request_timestamp: string;
  readonly total_count: number;
  readonly success_count: number;
  readonly successes?: readonly StatusDetail[];
  readonly failure_count: number;
  readonly failures?: readonly StatusDetail[];
  readonly pending_count: number;
  readonly pendings?: readonly StatusDetail[];
}

function detailList(details: readonly StatusDetail[]): readonly StatusDetail[] {
  return details.map((detail) => (detail.message === undefined ? { id: detail.id, version: detail.version } : detail));
}

/**
 * Status (§4.3.1). `successes` and `pendings` are the lists the release decision lets the caller see
 * (passed in already filtered); the counts are the store's, because they describe the caller's own
 * request and reveal no object.
 */
export function toStatusResource(
  record: StatusRecord,
  successes: readonly StatusDetail[],
  pendings: readonly StatusDetail[],
): StatusResource {
  return {
    id: record.id,
    status: record.status,
    request_timestamp: record.requestTimestamp,
    total_count: record.totalCount,
    success_count: record.successCount,
    ...(successes.length === 0 ? {} : { successes: detailList(successes) }),
    failure_count: record.failureCount,
    ...(record.failures.length === 0 ? {} : { failures: detailList(record.failures) }),
    pending_count: record.pendingCount,
    ...(pendings.length === 0 ? {} : { pendings: detailList(pendings) }),
  };
}

export const apiRootVersions: readonly string[] = [TAXII_MEDIA_TYPE];
