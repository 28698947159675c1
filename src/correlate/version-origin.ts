import type { ObjectStore } from '../store/object-store.ts';
import { versionKey } from '../store/object-store.ts';

/**
 * Who a version provably comes from, as the store recorded it — never as its text claims: created_by_ref
 * is authenticated only for organisations with pinned keys, so any writer of some collection can copy
 * another's reference or leave it out. In order: the signer that verified it (federation provenance),
 * the home organisation when it is a home original, the one contributor recorded for it in the
 * collection holding it; else unknown. Two records that disagree make it unknown.
 */
export type OriginStore = Pick<ObjectStore, 'provenanceOf' | 'homeOriginalsIn' | 'contributionsOf'>;

/** origin(collectionId, id, version): an organisation id in lower case, or undefined when unknown. */
export type OriginOf = (collectionId: string, id: string, version: string) => string | undefined;

/** Reads the origin facts of many versions in three store calls, whatever their number. */
export async function readOrigins(store: OriginStore, homeOrganisationId: string, versions: readonly { readonly id: string; readonly version: string }[]): Promise<OriginOf> {
  const unique = [...new Map(versions.map((v) => [versionKey(v.id, v.version), { id: v.id, version: v.version }])).values()];
  if (unique.length === 0) return () => undefined;
  const [provenance, originals, contributions] = await Promise.all([store.provenanceOf(unique), store.homeOriginalsIn(unique), store.contributionsOf(unique)]);
  const home = new Set<string>();
  unique.forEach((v, index) => {
    if (originals[index] === true) home.add(versionKey(v.id, v.version));
  });
  const homeOrganisation = homeOrganisationId.toLowerCase();
  return (collectionId, id, version) => {
    const key = versionKey(id, version);
    const signers = new Set((provenance.get(key) ?? []).flatMap((row) => (row.verification === 'verified' && row.signer !== undefined ? [row.signer.toLowerCase()] : [])));
    if (signers.size > 0) return signers.size === 1 ? [...signers][0] : undefined;
    if (home.has(key)) return homeOrganisation;
    const contributors = new Set((contributions.get(key) ?? []).filter((c) => c.collectionId === collectionId).map((c) => c.organisationId.toLowerCase()));
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
