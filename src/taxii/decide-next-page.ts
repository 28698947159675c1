import { parseMicroTimestamp } from '../stix/micro-timestamp.ts';

/**
 * How a client walks a peer's collection page by page (docs/federation.md, Sync). Pure: the
 * client's I/O asks decideNextPage what to do with each page it received.
 *
 * A walk follows `next` while the server gives one. A server that gives no `next` (it honours only
 * `added_after`) is walked by moving `added_after` to each page's X-TAXII-Date-Added-Last. A server
 * that hands out `next` but ignores it (the page after it starts before the previous page ended, or
 * the same `next` comes back) is walked the `added_after` way from where the last good page ended.
 * A walk that cannot move (more is true, yet neither a new `next` nor a later date) stops: looping
 * on it would fetch the same page forever. So does one that gets the objects of the page before
 * again (each id at the same version) once it walks by `added_after`; under a `next`, such a page is
 * a `next` ignored, walked the `added_after` way like the others. Only the page before is compared:
 * a peer that cycles through more pages than that is bounded by the puller's page cap
 * (federation/pull-peer.ts, MAX_PULL_PAGES).
 *
 * Timestamps are the peer's own `date_added` strings, passed through unchanged; they are compared
 * as instants (microseconds), so that `…00.1Z` and `…00.100000Z` are the same point.
 */

/**
 * Where a walk resumes: the `added_after` it sends and, in the middle of a walk that follows `next`,
 * the `next` to send with it. Store it after a page's objects are stored; pass it back to resume.
 */
export interface TaxiiCursor {
  readonly addedAfter?: string;
  readonly next?: string;
}

export interface PageWalk {
  /** `added_after` to send with the next request. */
  readonly addedAfter: string | undefined;
  /** `next` to send with the next request. */
  readonly next: string | undefined;
  /** Set once the peer showed it does not honour `next`: from then on only `added_after` moves. */
  readonly addedAfterOnly: boolean;
  /** Newest date_added seen in this walk (or the cursor's `added_after` before any page). */
  readonly newestSeen: string | undefined;
  /** X-TAXII-Date-Added-Last of the last page handed out in this walk. */
  readonly previousLast: string | undefined;
  /** The objects of the last page handed out, as the peer sent them; undefined before the first. */
  readonly previousObjects?: readonly unknown[] | undefined;
}

/** What decideNextPage needs of a page. */
export interface PageFacts {
  readonly more: boolean;
  readonly next?: string;
  readonly dateAddedFirst?: string;
  readonly dateAddedLast?: string;
  /** The page's objects as the peer sent them; compared with the page before by id and version. */
  readonly objects?: readonly unknown[];
}

export type PageStep =
  /** Hand the page out with this cursor; `following` is the next request, or undefined at the end. */
  | { readonly kind: 'page'; readonly cursor: TaxiiCursor; readonly following: PageWalk | undefined }
  /** The peer ignored `next`: drop this page (it repeats earlier objects) and ask again. */
  | { readonly kind: 'refetch'; readonly following: PageWalk }
  /** The walk cannot move; `reason` says why, for the peer's operator. */
  | { readonly kind: 'stuck'; readonly reason: string };

export function startPageWalk(cursor: TaxiiCursor = {}): PageWalk {
  return {
    addedAfter: cursor.addedAfter,
    next: cursor.next,
    addedAfterOnly: false,
    newestSeen: cursor.addedAfter,
    previousLast: undefined,
  };
}

/** The timestamp as an instant; a string that is not one sorts first (the client checks headers first). */
function instant(text: string): number {
  return parseMicroTimestamp(text) ?? Number.NEGATIVE_INFINITY;
}

function isLater(a: string, b: string): boolean {
  return instant(a) > instant(b);
}

function newest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return isLater(b, a) ? b : a;
}

function idOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = (value as Record<string, unknown>)['id'];
  return typeof id === 'string' ? id : undefined;
}

/** `id` and `modified` (else `created`) of an object; undefined for a value with no string id. */
function objectKeyOf(value: unknown): string | undefined {
  const id = idOf(value);
  if (id === undefined) return undefined;
  const record = value as Record<string, unknown>;
  const version = record['modified'] ?? record['created'];
  return `${id} ${typeof version === 'string' ? version : ''}`;
}

/** Whether every object of the page, and at least one, was on the page before (same id, same version). */
function repeatsPrevious(previous: readonly unknown[] | undefined, objects: readonly unknown[] | undefined): boolean {
  if (previous === undefined || objects === undefined || objects.length === 0 || previous.length === 0) return false;
  // Pages of a walk that moves share no object: finding the first one's id before is enough to say
  // no, without building keys for the whole page on every page of a sync.
  const first = idOf(objects[0]);
  if (first === undefined || !previous.some((value) => idOf(value) === first)) return false;
  const keys = new Set<string>();
  for (const value of previous) {
    const key = objectKeyOf(value);
    if (key !== undefined) keys.add(key);
  }
  for (const value of objects) {
    const key = objectKeyOf(value);
    if (key === undefined || !keys.has(key)) return false;
  }
  return true;
}

function cursorAt(addedAfter: string | undefined, next?: string): TaxiiCursor {
  return { ...(addedAfter === undefined ? {} : { addedAfter }), ...(next === undefined ? {} : { next }) };
}

export function decideNextPage(walk: PageWalk, page: PageFacts): PageStep {
  const sentNext = walk.addedAfterOnly ? undefined : walk.next;
  // A last page (more is false) ends the walk whatever it holds: only a page that asks for more can loop.
  const sameObjects = page.more && repeatsPrevious(walk.previousObjects, page.objects);
  if (sentNext !== undefined) {
    const wentBack =
      walk.previousLast !== undefined && page.dateAddedFirst !== undefined && isLater(walk.previousLast, page.dateAddedFirst);
    const repeated = page.more && page.next === sentNext;
    if (wentBack || repeated || sameObjects) {
      return {
        kind: 'refetch',
        following: { ...walk, addedAfter: walk.previousLast ?? walk.addedAfter, next: undefined, addedAfterOnly: true },
      };
    }
  }
  if (sameObjects) {
    const count = page.objects?.length ?? 0;
    return {
      kind: 'stuck',
      reason: `the peer says more is true but sends the same ${count} object${count === 1 ? '' : 's'} as the page before (same ids and versions), after added_after ${walk.addedAfter ?? '(none)'}`,
    };
  }

  const newestSeen = newest(walk.newestSeen, page.dateAddedLast);
  if (!page.more) return { kind: 'page', cursor: cursorAt(newestSeen), following: undefined };

  if (!walk.addedAfterOnly && page.next !== undefined) {
    // A `next` is bound to the query that produced it, `added_after` included: both are kept.
    return {
      kind: 'page',
      cursor: cursorAt(walk.addedAfter, page.next),
      following: {
        addedAfter: walk.addedAfter,
        next: page.next,
        addedAfterOnly: false,
        newestSeen,
        previousLast: page.dateAddedLast ?? walk.previousLast,
        previousObjects: page.objects,
      },
    };
  }

  const last = page.dateAddedLast;
  if (last === undefined) {
    return { kind: 'stuck', reason: 'the peer says more is true but gives neither next nor X-TAXII-Date-Added-Last' };
  }
  if (walk.addedAfter !== undefined && !isLater(last, walk.addedAfter)) {
    return {
      kind: 'stuck',
      reason: `the peer says more is true but gives no next, and X-TAXII-Date-Added-Last (${last}) is not after added_after (${walk.addedAfter})`,
    };
  }
  return {
    kind: 'page',
    cursor: cursorAt(last),
    following: { addedAfter: last, next: undefined, addedAfterOnly: walk.addedAfterOnly, newestSeen, previousLast: last, previousObjects: page.objects },
  };
}
