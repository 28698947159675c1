// One push to a `--push` peer (docs/federation.md, "Sync"): entries of the circle's collection added
// after the push cursor pass the release gate for the peer's organisation — the one release
// decision, audited — and are POSTed in envelopes; the push cursor moves only once the peer's status
// resource says complete. Retrying a POST is idempotent on the receiver (same id and version).
// A push lasts as long as its envelopes take: each batch is decided (and audited) when it leaves, and
// the push stops at the first batch for which the circle gives the peer's organisation no standing.
import { openReleaseGate, type ReleaseGate, type ReleaseSigner } from '../release/open-release-gate.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { PeerRecord } from '../store/federation-store.ts';
import { versionKey, type ObjectStore, type StoredEntry } from '../store/object-store.ts';
import type { TaxiiClient, TaxiiStatus } from '../taxii/taxii-client.ts';
import { PEER_CLOCK_SKEW_MS } from './sync-timing.ts';

/** At most this many objects in one envelope. */
export const PUSH_ENVELOPE_SIZE = 500;
/** How many refusals a report names one by one (the count covers them all). */
const MAX_REFUSALS_LISTED = 20;
/** Bytes of an envelope around its objects: `{"objects":[` … `]}` and commas. */
const ENVELOPE_OVERHEAD = 16;

export interface PushDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  /** Signs what leaves (federation/sign-releases.ts); the node always gives it. */
  readonly releaseSigner?: ReleaseSigner;
}

export interface PushRefusal {
  readonly id: string;
  readonly version: string;
  readonly message: string;
}

export interface PushCounts {
  /** Entries of the local collection looked at. */
  readonly examined: number;
  /** Versions the release decision let go to the peer, and the peer stored (or held already). */
  readonly pushed: number;
  /** Versions the peer refused (its status failures), or too large for it: counted, not retried. */
  readonly refused: number;
  /** The first refusals, with the peer's reason. */
  readonly refusals: readonly PushRefusal[];
  /**
   * Why the push stopped before the end of the collection: the circle gave the peer's organisation
   * no standing when a batch was due (the circle ended, it left, no agreement binds it). The push
   * cursor stays after the last batch sent, so a standing given again resumes there.
   */
  readonly stopped?: string;
}

export const NO_PUSH: PushCounts = { examined: 0, pushed: 0, refused: 0, refusals: [] };

export interface PushOptions {
  readonly signal?: AbortSignal;
  /** Entries read and envelopes sent at a time (at most 500). */
  readonly batchSize?: number;
  /** How the peer's status resource is followed until complete. */
  readonly followStatus?: { readonly pollMs: number; readonly deadlineMs: number };
  /** Told the running totals after each batch is confirmed (so that a failure later still reports them). */
  readonly onBatch?: (counts: PushCounts) => void;
}

/** The peer's organisation as the one release decision sees it: a partner with a read grant on the circle's collection. */
export function recipientForPeer(peer: PeerRecord): Recipient {
  return {
    name: `peer:${peer.name}`,
    organisationId: peer.organisationId,
    admin: false,
    actsForHome: false,
    grants: [{ collectionId: peer.localCollectionId, read: true, write: false }],
  };
}

/**
 * Splits released objects into envelopes of at most `maxObjects` and `maxBytes` of JSON. An object
 * that alone exceeds `maxBytes` goes in no envelope: it is returned in `tooLarge`.
 */
export function planEnvelopes(jsonTexts: readonly string[], maxObjects: number, maxBytes: number): { envelopes: number[][]; tooLarge: number[] } {
  const envelopes: number[][] = [];
  const tooLarge: number[] = [];
  let current: number[] = [];
  let size = ENVELOPE_OVERHEAD;
  jsonTexts.forEach((json, index) => {
    const bytes = Buffer.byteLength(json) + 1;
    if (bytes + ENVELOPE_OVERHEAD > maxBytes) {
      tooLarge.push(index);
      return;
    }
    if (current.length >= maxObjects || size + bytes > maxBytes) {
      envelopes.push(current);
      current = [];
      size = ENVELOPE_OVERHEAD;
    }
    current.push(index);
    size += bytes;
  });
  if (current.length > 0) envelopes.push(current);
  return { envelopes, tooLarge };
}

/**
 * Pushes what the circle may release to the peer's organisation and was added after the push
 * cursor. Versions the peer's organisation contributed itself are not sent back. The cursor moves
 * after each batch of entries, once every envelope of it was confirmed complete. Each batch passes a
 * release gate opened for it, at the clock's instant; the push stops (PushCounts.stopped) at a batch
 * for which the peer's organisation has no standing in the circle.
 */
export async function pushPeer(deps: PushDeps, peer: PeerRecord, client: TaxiiClient, options: PushOptions = {}): Promise<PushCounts> {
  const batchSize = Math.min(Math.max(1, options.batchSize ?? PUSH_ENVELOPE_SIZE), PUSH_ENVELOPE_SIZE);
  const follow = options.followStatus ?? { pollMs: 1000, deadlineMs: 120_000 };
  const maxBytes = (await client.apiRoot()).maxContentLength;
  const recipient = recipientForPeer(peer);
  let after = (await deps.store.getPeerState(peer.name)).pushCursor;
  let examined = 0;
  let pushed = 0;
  let refused = 0;
  const refusals: PushRefusal[] = [];
  const refuse = (list: readonly PushRefusal[]): void => {
    refused += list.length;
    for (const refusal of list) if (refusals.length < MAX_REFUSALS_LISTED) refusals.push(refusal);
  };

  let stopped: string | undefined;
  for (;;) {
    if (options.signal?.aborted === true) break;
    // Each batch is a release at the instant it is decided, with the circle and agreements as they
    // stand then: a gate kept from the start of the push would go on releasing after the circle ended
    // or the peer's organisation left, audited at the start — before the end, so outside the recall
    // the end queued. Without a standing nothing more can be released: stop rather than walk the
    // cursor past entries that were withheld only for that.
    const at = deps.clock();
    // The circle may be mirrored from a coordinator whose clock is ahead: its acceptances bind already.
    const gate = await openReleaseGate(deps.store, recipient, peer.localCollectionId, at, {
      agreementClockSkewMs: PEER_CLOCK_SKEW_MS,
      ...(deps.releaseSigner === undefined ? {} : { signer: deps.releaseSigner }),
    });
    stopped = noStandingReason(gate, peer);
    if (stopped !== undefined) break;
    const page = await deps.store.listEntries(peer.localCollectionId, { versions: [{ kind: 'all' }] }, { limit: batchSize, ...(after === undefined ? {} : { after }) });
    const last = page.entries.at(-1);
    if (last === undefined) break;
    examined += page.entries.length;
    const contributions = await deps.store.contributionsOf(page.entries.map((entry) => ({ id: entry.id, version: entry.version })));
    const fromPeer = (entry: StoredEntry): boolean =>
      (contributions.get(versionKey(entry.id, entry.version)) ?? []).some((contribution) => contribution.organisationId === peer.organisationId);
    const { released } = await gate.release(page.entries.filter((entry) => !fromPeer(entry)));
    const texts = released.map((entry) => entry.json);
    const plan = planEnvelopes(texts, batchSize, maxBytes);
    refuse(
      plan.tooLarge.map((index) => ({
        id: released[index]?.id ?? '',
        version: released[index]?.version ?? '',
        message: `larger than the ${maxBytes} bytes the peer accepts in one request`,
      })),
    );
    for (const envelope of plan.envelopes) {
      const objects = envelope.map((index) => JSON.parse(texts[index] ?? 'null') as unknown);
      let status: TaxiiStatus = await client.postObjects(peer.remoteCollectionId, objects);
      if (status.status !== 'complete') status = await client.followStatus(status.id, follow);
      pushed += status.successCount;
      refuse(status.failures.map((failure) => ({ id: failure.id, version: failure.version, message: failure.message ?? 'refused by the peer' })));
    }
    // Every envelope of this batch is complete on the peer: only now does the cursor move past it.
    await deps.store.setPushCursor(peer.name, last.dateAdded);
    after = last.dateAdded;
    options.onBatch?.({ examined, pushed, refused, refusals: [...refusals] });
    if (!page.more) break;
  }
  return { examined, pushed, refused, refusals, ...(stopped === undefined ? {} : { stopped }) };
}

/**
 * Why the circle the peer's collection carries gives the peer's organisation no standing (circle
 * window, membership, a binding agreement), as the batch's release gate worked it out once for every
 * entry (ReleaseGate.standing: the circle and its agreements are read once a batch, not once for the
 * push and again for the gate); undefined when it has one. The gate still decides each entry.
 */
function noStandingReason(gate: ReleaseGate, peer: PeerRecord): string | undefined {
  const standing = gate.standing;
  if (standing === undefined) return `circle: collection ${peer.localCollectionId} carries none`;
  return standing.kind === 'refused' ? standing.decision.reasons.join('; ') : undefined;
}
