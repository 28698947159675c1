// Who may speak for an organisation whose keys are pinned on this node, on the write path that has
// no arrival checks: a partner's plain TAXII client writing into a collection of no circle
// (taxii/post-objects.ts). Readers and the node matcher take `created_by_ref`, an identity's own id,
// and where a sighting was sighted, at their word; so such an object is stored only on a version the
// organisation it names signed with a key pinned for it (its home organisation's own keys for the
// home organisation).
// The rules and their reasons are those of the arrival checks (federation/decide-arrival.ts, rules
// 6 to 9), so the same forgery reads the same whichever path it takes.
//
// The writer's own token is no exemption: an organisation with pinned keys is an Entente peer, whose
// every object must be signed (arrival rule 5), and post-objects sends its token to the arrival
// checks, never here. Were it to get here (keys pinned between the two reads), an unsigned version
// would still be one no reader or peer can tell from a forgery: the signature travels with the
// object, the token that wrote it does not.
import type { KeyDirectory } from '../federation/node-key.ts';
import { instantOf, isKeyValidAt, KEY_VALIDITY_SKEW_MS } from '../federation/node-key.ts';
import { whereSightedOf } from '../federation/decide-arrival.ts';
import { loadKeyDirectory } from '../federation/load-arrival-context.ts';
import { verifyObjectSignature } from '../federation/sign-object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { StixObject } from '../stix/types.ts';
import { namesSameId } from '../stix/ids.ts';
import { isUnversioned, versionOf } from '../stix/versions.ts';

/** The organisations that sign for themselves here, and the keys their signatures are checked with. */
export interface PinnedOrganisations {
  readonly directory: KeyDirectory;
  /**
   * Whether an identifier names one of them. Letter case does not matter: a UUID is case-insensitive
   * (RFC 4122, §3), so a reader takes `identity--C0FFEE…` for `identity--c0ffee…` while no exact
   * comparison does. Validation for ingest refuses such references already; this holds regardless.
   */
  names(identifier: string): boolean;
}

/** The arrival checks' reasons (docs/federation.md, "Arrival checks") this path can give. */
export type CreatorRefusalReason = 'bad-signature' | 'unknown-key' | 'key-not-valid' | 'signer-not-creator';

export interface CreatorRefusal {
  readonly reason: CreatorRefusalReason;
  readonly message: string;
}

/**
 * Every organisation with pinned keys, and the home organisation whether or not it has a key yet (an
 * object naming it is then refused from a partner until it can sign). Two small tables, read once per
 * request.
 */
export async function loadPinnedOrganisations(
  store: Pick<ObjectStore, 'listPinnedKeys' | 'listNodeKeys'>,
  homeOrganisationId: string | undefined,
): Promise<PinnedOrganisations> {
  const folded = new Set((await store.listPinnedKeys()).map((key) => key.organisationId.toLowerCase()));
  if (homeOrganisationId !== undefined) folded.add(homeOrganisationId.toLowerCase());
  return { directory: await loadKeyDirectory(store, homeOrganisationId), names: (identifier) => folded.has(identifier.toLowerCase()) };
}

/**
 * The organisations an object speaks for: its own id when it is an identity, its creator, and where a
 * sighting was sighted (that organisation's report of being hit, as arrival rule 9 reads it).
 */
function claimedOrganisations(object: StixObject, pinned: PinnedOrganisations): { readonly identity?: string; readonly creator?: string; readonly whereSighted: readonly string[] } {
  const creator = object['created_by_ref'];
  return {
    ...(object.type === 'identity' && pinned.names(object.id) ? { identity: object.id } : {}),
    ...(typeof creator === 'string' && pinned.names(creator) ? { creator } : {}),
    whereSighted: whereSightedOf(object).filter((where): where is string => typeof where === 'string' && pinned.names(where)),
  };
}

/**
 * Why a validated object may not be stored as written by a partner, or undefined when it names no
 * organisation with pinned keys or that organisation signed it. The messages read nothing the node
 * holds, and never say for whom a key that is not the signer's is pinned. `now` stands for the
 * version's time of an SCO, which has none (as in the arrival checks).
 */
export function creatorRefusalOf(object: StixObject, pinned: PinnedOrganisations, now: Date): CreatorRefusal | undefined {
  const { identity, creator, whereSighted } = claimedOrganisations(object, pinned);
  if (identity === undefined && creator === undefined && whereSighted.length === 0) return undefined;
  const signature = verifyObjectSignature(object, pinned.directory);
  if (signature.kind === 'malformed') return { reason: 'bad-signature', message: `the signature extension cannot be read: ${signature.reason}` };
  if (signature.kind === 'bad-signature') return { reason: 'bad-signature', message: signature.reason };
  if (signature.kind === 'unknown-key') {
    return { reason: 'unknown-key', message: `key ${signature.keyId} is not pinned for the signer ${signature.signer}` };
  }
  if (signature.kind === 'verified') {
    const at = (isUnversioned(object) ? undefined : instantOf(versionOf(object))) ?? now.getTime();
    if (!isKeyValidAt(signature.key, at, KEY_VALIDITY_SKEW_MS)) {
      const window = `${signature.key.validFrom} – ${signature.key.validUntil ?? 'open'}`;
      return { reason: 'key-not-valid', message: `key ${signature.keyId} of ${signature.signer} was valid ${window}, not at ${new Date(at).toISOString()}` };
    }
  }
  const signer = signature.kind === 'verified' ? signature.signer : undefined;
  const by = signer === undefined ? 'the version is unsigned' : `${signer} signed`;
  // A derived signature by the organisation named is still its own word on these bytes; by anyone
  // else it is no exception here: the exemption of the arrival checks is for the peer a version
  // came from, and a partner writing here has no pinned keys.
  if (identity !== undefined && !namesSameId(signer, identity)) {
    return { reason: 'signer-not-creator', message: `${identity} is an organisation's identity whose keys are pinned on this node: only that organisation's signature is accepted on it, and ${by}` };
  }
  if (creator !== undefined && !namesSameId(signer, creator)) {
    return { reason: 'signer-not-creator', message: `created_by_ref names ${creator}, whose keys are pinned on this node, but ${by}` };
  }
  const unsigned = whereSighted.find((where) => !namesSameId(signer, where));
  if (unsigned !== undefined) return { reason: 'signer-not-creator', message: `where_sighted_refs names ${unsigned}, whose keys are pinned on this node, but ${by}` };
  return undefined;
}
