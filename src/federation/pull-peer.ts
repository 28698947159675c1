// One pull from a peer (docs/federation.md, "Sync"): every page after the stored cursor is checked
// and written with its cursor in one transaction, so the cursor is never ahead of the data and a
// crash re-fetches at most one page (duplicates are no-ops).
import type { PeerRecord } from '../store/federation-store.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { decidePullPage, type PageVouch } from './decide-pull-page.ts';
import { loadPageHistory, loadPullBasis } from './load-arrival-context.ts';
import { checkPageVouching, createPageNonce } from './page-voucher.ts';

/** Objects asked for per page; the peer may send fewer. */
export const PULL_PAGE_SIZE = 500;

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
}

export const NO_PULL: PullCounts = { pages: 0, received: 0, added: 0, duplicates: 0, quarantined: 0, vouchedPages: 0 };

export interface PullOptions {
  readonly signal?: AbortSignal;
  readonly pageSize?: number;
  /** Told the running totals after each page is written (so that a failure later still reports them). */
  readonly onPage?: (counts: PullCounts) => void;
}

/**
 * Pulls everything the peer added after the stored cursor into the peer's local collection. Stops
 * between pages when `signal` aborts (what was written stays written, with its cursor).
 */
export async function pullPeer(deps: PullDeps, peer: PeerRecord, client: TaxiiClient, options: PullOptions = {}): Promise<PullCounts> {
  const { basis } = await loadPullBasis(deps.store, peer, deps.homeOrganisationId, deps.clock());
  const state = await deps.store.getPeerState(peer.name);
  let counts = NO_PULL;
  // Only an Entente peer can sign its pages; a plain TAXII server is not asked.
  const asksForVouching = peer.kind === 'entente';
  const pages = client.pages(peer.remoteCollectionId, {
    limit: options.pageSize ?? PULL_PAGE_SIZE,
    ...(state.pullCursor === undefined ? {} : { cursor: state.pullCursor }),
    ...(asksForVouching ? { pageNonce: createPageNonce } : {}),
  });
  for await (const page of pages) {
    if (options.signal?.aborted === true) break;
    const history = await loadPageHistory(deps.store, page.objects);
    const now = deps.clock();
    let vouch: PageVouch | undefined;
    if (asksForVouching) {
      const expected = { peerOrganisationId: peer.organisationId, requesterOrganisationId: deps.homeOrganisationId, collectionId: peer.remoteCollectionId, now };
      const vouching = checkPageVouching(page.proof, expected, basis.directory);
      // An unvouched page is not refused: each of its objects is verified, as from a server that does not vouch.
      if (vouching.kind === 'vouched') vouch = { key: { signer: vouching.signer, key: vouching.key }, random: deps.random ?? Math.random };
    }
    const decision = decidePullPage(page.objects, { ...basis, now }, history, vouch);
    const outcome = await deps.store.applySyncBatch({
      collectionId: peer.localCollectionId,
      peer: peer.name,
      circleId: peer.circleId,
      source: 'pull',
      contributorOrganisationId: peer.organisationId,
      accepted: decision.accepted,
      quarantined: decision.quarantined,
      pullCursor: page.cursor,
      receivedAt: now.toISOString(),
    });
    counts = {
      pages: counts.pages + 1,
      received: counts.received + page.objects.length,
      added: counts.added + outcome.outcomes.filter((added) => added.kind === 'added').length,
      duplicates: counts.duplicates + outcome.outcomes.filter((added) => added.kind === 'duplicate').length,
      quarantined: counts.quarantined + outcome.quarantined,
      vouchedPages: counts.vouchedPages + (decision.vouching === 'vouched' ? 1 : 0),
    };
    options.onPage?.(counts);
  }
  return counts;
}
