import type { ProvenanceRecord } from '../store/federation-store.ts';

/**
 * Who originated one object version, as far as its arrivals prove it (src/policy/README.md, rule 3a):
 * the one attribution rule for relayed content, which the release gate (whose consent rule 3a asks),
 * the weakness totals (whom a disclosure counts for) and the matcher (which versions are of one origin,
 * so that a newer one supersedes an older: correlate/version-origin.ts readOrigins) apply. Not the
 * source a partner's matching budget and reputation count (federation/source-reputation.ts,
 * decideSource): that asks who answers for sending a version, and names the redacting or delivering
 * peer where this names no one, so that a relay's indicators do not escape every budget.
 *
 * - A `verified` arrival names its signer: the arrival checks verified its signature against that
 *   organisation's pinned key, so it wrote these bytes, whichever node delivered them.
 * - A `derived` arrival is signed by the node that redacted or re-signed the version, which says it
 *   produced the copy, not whose version it copied; an `unverified` one is signed by no one checked.
 *   Either names the signer of every `verified` arrival of the same version on this node, in any
 *   collection: the arrival checks take a derived copy of a version held only when its content is the
 *   held one (decide-pull-page.ts), the store holds one content per version (the signature aside) and
 *   refuses a version arriving with other content, so a row beside a verified one is a copy of the
 *   very version that signer wrote. Both are traced alike, so that a relay cannot skip the originator
 *   by stripping the signature instead of re-signing as derived.
 * - Without such a verified arrival, a derived copy names its own signer only when the copy names that
 *   signer as its creator (`createdBy`): its signature covers that claim, as a verified signature
 *   does — a member's node re-signs its own redacted disclosure so. Unsigned input names no one: it
 *   proves nothing of its author, and the peer that delivered it may only have relayed it.
 *
 * `unattributed` says that some arrival in scope named no one. `collectionId` limits the arrivals asked
 * about to those into one collection (the release gate's); the verified arrivals a derived or unsigned
 * one is traced to may be in any collection. `records`: the provenance of this one version (FederationStore.provenanceOf).
 */
export interface VersionOrigin {
  readonly originators: ReadonlySet<string>;
  readonly unattributed: boolean;
}

export function originOfVersion(
  records: readonly ProvenanceRecord[],
  options: { readonly collectionId?: string; readonly createdBy?: () => unknown } = {},
): VersionOrigin {
  const originators = new Set<string>();
  let unattributed = false;
  let traced: readonly string[] | undefined;
  for (const record of records) {
    if (options.collectionId !== undefined && record.collectionId !== options.collectionId) continue;
    if (record.verification === 'verified' && record.signer !== undefined) {
      originators.add(record.signer);
      continue;
    }
    // A derived or unsigned copy (or a verified row naming no signer, which names no one itself).
    traced ??= verifiedSigners(records);
    if (traced.length > 0) {
      for (const signer of traced) originators.add(signer);
      continue;
    }
    // Compared as written: the arrival checks already refuse a derived copy naming another
    // organisation with pinned keys as its creator unless this node holds a version it originated.
    if (record.verification === 'derived' && record.signer !== undefined && options.createdBy?.() === record.signer) {
      originators.add(record.signer);
      continue;
    }
    unattributed = true;
  }
  return { originators, unattributed };
}

function verifiedSigners(records: readonly ProvenanceRecord[]): string[] {
  const signers = new Set<string>();
  for (const record of records) if (record.verification === 'verified' && record.signer !== undefined) signers.add(record.signer);
  return [...signers];
}
