import { originOfVersion } from '../policy/version-origin.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { versionKey } from '../store/object-store.ts';

/**
 * Who a version provably comes from, as the store recorded it — never as its text claims: created_by_ref
 * is authenticated only for organisations with pinned keys, so any writer of some collection can copy
 * another's reference or leave it out. The matcher compiles, and lets supersede one another, only
 * versions of one creator and origin (load-indicators.ts CompiledVersions, node-matcher.ts newerIn): an
 * origin named wrongly lets a "newer version" planted under that name silence the genuine one, an
 * unknown one silences nothing. In order:
 *
 * - the home organisation when the version is a home original: the home wrote it before any partner
 *   sent it (a partner's copy sent back, or signed by a partner since, is still the home's), unless the
 *   version names as its creator the organisation that signed it (the home imported its version first);
 * - whom the version's arrivals prove originated it, by the one attribution rule for relayed content
 *   (policy/version-origin.ts, originOfVersion, which the release gate and the weakness totals apply):
 *   a verified signer; the verified signer of the same version for a derived or unsigned copy of it; the
 *   signer of a derived copy naming that signer as creator (a member's node re-signing its own redacted
 *   disclosure). Asked of every arrival of the version, in any collection: the store holds one content
 *   per version, so each is a copy of the one version. Two originators make it unknown. Where another
 *   partner POSTed it (the contributor below), the signer stands only when the version names it as its
 *   creator: a signature proves its signer signed the bytes, not that no one held them before, so a peer
 *   signing a copy of a member's POST must not become its origin there; else it is unknown;
 * - the one contributor recorded for it in the collection holding it (a partner POSTing to that
 *   collection), but only for a collection no arrival through federation reached: a sync records the
 *   peer that delivered a page as its contributor, which is the relay, not who wrote the version. A relay
 *   that strips a member's signature, or re-signs the version as derived, must not become its origin,
 *   nor then supersede it with a version of its own under the member's name.
 *
 * Else unknown. Not the source the matching budget and the reputation count (federation/
 * source-reputation.ts, decideSource): that asks who answers for sending a version, and names the
 * redacting or delivering peer where no signature proves an author (naming no one there would exempt a
 * relay's indicators from every partner budget); this asks who wrote it, and names no one there.
 */
export type OriginStore = Pick<ObjectStore, 'provenanceOf' | 'homeOriginalsIn' | 'contributionsOf'>;

/** origin(collectionId, id, version): an organisation id in lower case, or undefined when unknown. */
export type OriginOf = (collectionId: string, id: string, version: string) => string | undefined;

/** A version whose origin is asked, with the created_by_ref its content names, as written (originOfVersion compares it so). */
export interface OriginAsked {
  readonly id: string;
  readonly version: string;
  readonly createdBy?: unknown;
}

/** Reads the origin facts of many versions in three store calls, whatever their number. */
export async function readOrigins(store: OriginStore, homeOrganisationId: string, versions: readonly OriginAsked[]): Promise<OriginOf> {
  const unique = [...new Map(versions.map((v) => [versionKey(v.id, v.version), v])).values()];
  if (unique.length === 0) return () => undefined;
  const asked = unique.map(({ id, version }) => ({ id, version }));
  const [provenance, originals, contributions] = await Promise.all([store.provenanceOf(asked), store.homeOriginalsIn(asked), store.contributionsOf(asked)]);
  const proven = new Map<string, string | undefined>();
  const creators = new Map<string, string>();
  const home = new Set<string>();
  unique.forEach((v, index) => {
    const key = versionKey(v.id, v.version);
    const { originators } = originOfVersion(provenance.get(key) ?? [], { createdBy: () => v.createdBy });
    // Some arrival naming no one (`unattributed`) leaves the others' answer standing: it is a copy of the same version.
    const names = new Set([...originators].map((o) => o.toLowerCase()));
    if (names.size > 0) proven.set(key, names.size === 1 ? [...names][0] : undefined);
    if (typeof v.createdBy === 'string') creators.set(key, v.createdBy.toLowerCase());
    if (originals[index] === true) home.add(key);
  });
  const homeOrganisation = homeOrganisationId.toLowerCase();
  return (collectionId, id, version) => {
    const key = versionKey(id, version);
    const signer = proven.get(key);
    // A signer the version names as its creator: its signature covers that claim.
    const signerIsCreator = signer !== undefined && creators.get(key) === signer;
    // The home wrote it before any partner sent it: a signature a partner put on a copy since proves no
    // more, unless the copy is of a version naming that partner (the home imported it first).
    if (home.has(key)) return signerIsCreator ? signer : homeOrganisation;
    const arrivedHere = (provenance.get(key) ?? []).some((row) => row.collectionId === collectionId);
    const contributors = arrivedHere ? new Set<string>() : new Set((contributions.get(key) ?? []).filter((c) => c.collectionId === collectionId).map((c) => c.organisationId.toLowerCase()));
    if (proven.has(key)) {
      if (signer === undefined || [...contributors].every((c) => c === signer)) return signer;
      // A partner wrote it here and another organisation signed it: either may have copied the other's.
      // A peer that signed a copy of a member's POST could otherwise own it wherever it is held.
      return signerIsCreator ? signer : undefined;
    }
    if (arrivedHere) return undefined;
    return contributors.size === 1 ? [...contributors][0] : undefined;
  };
}

/**
 * The creator a version names, folded to lower case (an identifier's UUID in capitals is the same
 * identity); undefined when it names none, which two versions of one lineage may share.
 */
export function lineageCreatorOf(object: { readonly created_by_ref?: unknown }): string | undefined {
  const ref = object.created_by_ref;
  return typeof ref === 'string' ? ref.toLowerCase() : undefined;
}
