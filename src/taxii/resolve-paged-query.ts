import { EntenteError } from '../errors/entente-error.ts';
import type { EntryFilter, PageRequest } from '../store/object-store.ts';
import { fingerprintQuery, parseCursor, type CursorKey, type QueryCursor } from './cursor.ts';
import { parseTaxiiQuery, type QueryIssue, type RawQuery, type TaxiiEndpoint } from './query-filters.ts';

/** Page size when the client gives no `limit`, and the most one page holds whatever it asks. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface PagedQuery {
  readonly filter: EntryFilter;
  readonly page: PageRequest;
  /**
   * Seals the `next` of this page and binds it to this exact query (endpoint, collection, object,
   * filters): the query's fingerprint and the node's cursor key (cursor.ts).
   */
  readonly cursor: QueryCursor;
}

export function badQuery(issues: readonly QueryIssue[]): EntenteError {
  const first = issues[0];
  const message = issues.map((issue) => issue.message).join('; ');
  return new EntenteError('ENT_HTTP_BAD_QUERY', message, {
    parameter: first?.parameter ?? '',
    issues: issues.map((issue) => ({ parameter: issue.parameter, message: issue.message })),
  });
}

/**
 * Parses a TAXII query and its `next` cursor into a store filter and page request. `scope` names the
 * resource the cursor must stay bound to (collection id, object id); `cursorKey` is the node's key
 * that `next` values are sealed with (cursor-key.ts). Throws ENT_HTTP_BAD_QUERY naming the
 * parameter. A `limit` above MAX_PAGE_SIZE is lowered, as TAXII lets a server return fewer.
 */
export function resolvePagedQuery(raw: RawQuery, endpoint: TaxiiEndpoint, scope: readonly string[], cursorKey: CursorKey): PagedQuery {
  const parsed = parseTaxiiQuery(raw, endpoint);
  if (!parsed.ok) throw badQuery(parsed.error);
  const { filter, limit, next, fingerprintParts } = parsed.value;
  const cursor: QueryCursor = { fingerprint: fingerprintQuery([...scope, ...fingerprintParts]), key: cursorKey };
  const size = Math.min(limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (next === undefined) return { filter, page: { limit: size }, cursor };
  const after = parseCursor(next, cursor);
  if (!after.ok) throw badQuery([after.error]);
  return { filter, page: { limit: size, after: after.value }, cursor };
}
