import type { Recipient } from './recipient.ts';
import { canReadCollection } from './recipient.ts';

/** What is known of one object version when deciding whether it may be released. */
export interface ReleaseSubject {
  readonly id: string;
  readonly type: string;
  readonly version: string;
}

/** The channel a release would travel through. Circles (with agreements) will join the collection here. */
export interface ReleaseChannel {
  readonly collectionId: string;
}

export type ReleaseDecision =
  | { readonly kind: 'share'; readonly reasons: readonly string[] }
  | { readonly kind: 'withhold'; readonly reasons: readonly string[] };

/**
 * The one release decision: may this object version go to this recipient through this channel at
 * this time, and why. Every read path (TAXII objects, manifest, versions, object by id, search,
 * export) calls it; nothing else decides. Pure: no I/O, no clock (the time is passed in).
 *
 * Today the channel is a collection and the rule is the recipient's read grant on it. Circle
 * agreements, TLP 2.0 and granular markings narrow it further as they land; they may only ever
 * turn a share into a withhold or a redaction, never the reverse. The circle rules are written
 * (pure, not yet wired into any read path) in ./decide-circle-release.ts — see ./README.md.
 */
export function decideRelease(
  subject: ReleaseSubject,
  recipient: Recipient,
  channel: ReleaseChannel,
  _at: Date,
): ReleaseDecision {
  if (!canReadCollection(recipient, channel.collectionId)) {
    return {
      kind: 'withhold',
      reasons: [`${recipient.name} has no read grant on collection ${channel.collectionId} (${subject.id})`],
    };
  }
  return {
    kind: 'share',
    reasons: [recipient.admin ? 'node administrator' : `read grant on collection ${channel.collectionId}`],
  };
}

/** Keeps the items the release decision shares, in order; used by every path that returns lists. */
export function releasable<T extends ReleaseSubject>(
  items: readonly T[],
  recipient: Recipient,
  channel: ReleaseChannel,
  at: Date,
): T[] {
  return items.filter((item) => decideRelease(item, recipient, channel, at).kind === 'share');
}
