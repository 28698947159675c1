// One pull from a peer (docs/federation.md, "Sync"): every page after the stored cursor is checked,
// and the pages are written with the cursor of the last of them in one transaction, so the cursor is
// never ahead of the data and a crash re-fetches at most one write's pages (duplicates are no-ops).
import type { ArrivedObject, NewQuarantineItem, PeerRecord, PullCursor } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { decidePullPage, UnwrittenPages, type PageVouch } from './decide-pull-page.ts';
import { loadPageHistory, loadPullBasis } from './load-arrival-context.ts';
import { checkPageVouching, createPageNonce } from './page-voucher.ts';

/**
 * Objects asked for per page; the peer may send fewer (TAXII lets a server lower `limit`). The most
 * an Entente server serves in one page (taxii/resolve-paged-query.ts, MAX_PAGE_SIZE): each page costs
 * both ends a request, a page signature, a store transaction (an fsync on each side) and a history
 * read, so fewer, fuller pages make a sync cheaper.
 */
export const PULL_PAGE_SIZE = 1000;

/**
 * Most pages one pull takes; the next cycle goes on from the stored cursor. A peer can say `more`
 * for ever, each page with new objects and a fresh `next`: without a cap the cycle would never end,
 * and neither the push nor the next peer's turn would come. 10,000 pages of PULL_PAGE_SIZE are 10
 * million objects, so an initial sync of a million (1,000 pages) is still one pull, and so it is from
 * a server that pages by 100.
 */
export const MAX_PULL_PAGES = 10_000;

export interface PullDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly homeOrganisationId: string;
  /** A number in [0, 1) for the sample of a vouched page (default Math.random). */
  readonly random?: () => number;
}

export interface PullCounts {
  readonly pages: number;
  /** Objects the peer sent. */
  readonly received: number;
  /** New versions stored. */
  readonly added: number;
  /** Versions this node held already (a re-fetched page, or the same version through another peer). */
  readonly duplicates: number;
  /** Quarantined by the arrival checks or refused by the store. */
  readonly quarantined: number;
  /** Pages whose signature by the peer stood (and whose sample held): its own objects on them were not verified one by one. */
  readonly vouchedPages: number;
  /** Set when the pull stopped at its page cap (MAX_PULL_PAGES) with the peer saying more: the next pull goes on from the stored cursor. */
  readonly more?: true;
}

export const NO_PULL: PullCounts = { pages: 0, received: 0, added: 0, duplicates: 0, quarantined: 0, vouchedPages: 0 };

/**
 * Objects written per store transaction: the pages that arrive are decided one by one and written
 * together once they hold this many objects (or PULL_WRITE_MS after the first of them arrived, or
 * when the pull ends). Each transaction costs an fsync, and each one dirties a page of the random-id
 * indexes for nearly every object it adds; at 1,000 objects a page most of a sync's write time went
 * there. A crash re-fetches at most one write: this many objects, rounded up to whole pages (duplicates are no-ops).
 */
export const PULL_WRITE_OBJECTS = 5000;
/**
 * Pages decided this long ago are written with the page that arrives next (checked as each page
 * arrives; the last page of a pull is written at once): during a long pull, what arrived becomes
 * visible about this often.
 */
export const PULL_WRITE_MS = 1000;

export interface PullOptions {
  readonly signal?: AbortSignal;
  readonly pageSize?: number;
  /** Objects written per transaction (default PULL_WRITE_OBJECTS); 1 writes every page on its own. */
  readonly writeObjects?: number;
  /** Most pages taken in this pull (default MAX_PULL_PAGES). */
  readonly maxPages?: number;
  /** Told the running totals after each write (so that a failure later still reports them). */
  readonly onPage?: (counts: PullCounts) => void;
}

/** Pages decided and not yet written: they go to the store together, with the cursor of the last one. */
interface PendingWrite {
  readonly accepted: ArrivedObject[];
  readonly quarantined: NewQuarantineItem[];
  cursor: PullCursor | undefined;
  pages: number;
  received: number;
  vouchedPages: number;
  /** When the first of them arrived (deps.clock, ms). */
  firstAt: number;
  /** What they accepted, for the decisions of the next pages of the same write. */
  unwritten: UnwrittenPages;
}

function emptyWrite(): PendingWrite {
  return { accepted: [], quarantined: [], cursor: undefined, pages: 0, received: 0, vouchedPages: 0, firstAt: 0, unwritten: new UnwrittenPages() };
}

/**
 * Pulls everything the peer added after the stored cursor into the peer's local collection. Stops
 * between pages when `signal` aborts, or after `maxPages` pages (counts.more; the next pull goes on
 * from there): what was decided is written, with its cursor. Pages are
 * written several at a time (PULL_WRITE_OBJECTS), each write in one transaction with the cursor of
 * its last page, so the stored cursor never covers a page that is not stored; a failure of the peer
 * mid-pull still writes the pages decided before it.
 */
export async function pullPeer(deps: PullDeps, peer: PeerRecord, client: TaxiiClient, options: PullOptions = {}): Promise<PullCounts> {
  const { basis } = await loadPullBasis(deps.store, peer, deps.homeOrganisationId, deps.clock());
  const state = await deps.store.getPeerState(peer.name);
  const writeObjects = Math.max(1, options.writeObjects ?? PULL_WRITE_OBJECTS);
  const maxPages = Math.max(1, options.maxPages ?? MAX_PULL_PAGES);
  let taken = 0;
  let capped = false;
  let counts = NO_PULL;
  let pending = emptyWrite();
  // Where the stored cursor is, for as long as only this pull moves it: each write is made only if so.
  let storedCursor = state.pullCursor;
  // Only an Entente peer can sign its pages; a plain TAXII server is not asked.
  const asksForVouching = peer.kind === 'entente';

  const write = async (): Promise<void> => {
    const batch = pending;
    if (batch.pages === 0) return;
    pending = emptyWrite();
    const outcome = await deps.store.applySyncBatch({
      collectionId: peer.localCollectionId,
      peer: peer.name,
      circleId: peer.circleId,
      source: 'pull',
      contributorOrganisationId: peer.organisationId,
      accepted: batch.accepted,
      quarantined: batch.quarantined,
      ...(batch.cursor === undefined ? {} : { pullCursor: batch.cursor }),
      pulledAfter: { cursor: storedCursor },
      receivedAt: deps.clock().toISOString(),
    });
    if (batch.cursor !== undefined) storedCursor = batch.cursor;
    let added = 0;
    let duplicates = 0;
    for (const result of outcome.outcomes) {
      if (result.kind === 'added') added += 1;
      else if (result.kind === 'duplicate') duplicates += 1;
    }
    counts = {
      pages: counts.pages + batch.pages,
      received: counts.received + batch.received,
      added: counts.added + added,
      duplicates: counts.duplicates + duplicates,
      quarantined: counts.quarantined + outcome.quarantined,
      vouchedPages: counts.vouchedPages + batch.vouchedPages,
    };
    options.onPage?.(counts);
  };

  const pages = client.pages(peer.remoteCollectionId, {
    limit: options.pageSize ?? PULL_PAGE_SIZE,
    ...(state.pullCursor === undefined ? {} : { cursor: state.pullCursor }),
    ...(asksForVouching ? { pageNonce: createPageNonce } : {}),
  });
  try {
    for await (const page of pages) {
      if (options.signal?.aborted === true) break;
      const history = await loadPageHistory(deps.store, page.objects, peer.localCollectionId);
      const now = deps.clock();
      let vouch: PageVouch | undefined;
      if (asksForVouching) {
        const expected = { peerOrganisationId: peer.organisationId, requesterOrganisationId: deps.homeOrganisationId, collectionId: peer.remoteCollectionId, now };
        const vouching = checkPageVouching(page.proof, expected, basis.directory);
        // An unvouched page is not refused: each of its objects is verified, as from a server that does not vouch.
        if (vouching.kind === 'vouched') vouch = { key: { signer: vouching.signer, key: vouching.key }, random: deps.random ?? Math.random };
      }
      const decision = decidePullPage(page.objects, { ...basis, now }, history, vouch, pending.unwritten);
      if (pending.pages === 0) pending.firstAt = now.getTime();
      for (const arrived of decision.accepted) pending.accepted.push(arrived);
      for (const item of decision.quarantined) pending.quarantined.push(item);
      pending.cursor = page.cursor;
      pending.pages += 1;
      pending.received += page.objects.length;
      if (decision.vouching === 'vouched') pending.vouchedPages += 1;
      taken += 1;
      if (taken >= maxPages && page.more) {
        capped = true;
        break;
      }
      if (pending.received >= writeObjects || now.getTime() - pending.firstAt >= PULL_WRITE_MS) await write();
    }
  } catch (error: unknown) {
    // The peer failed (or went away) mid-pull: the pages decided before are written, with their cursor.
    // Should that write fail too, the first failure is the one to report: those pages are fetched again.
    await write().catch(() => undefined);
    throw error;
  }
  await write();
  return capped ? { ...counts, more: true } : counts;
}
