// Where a home sighting goes (the running node's matcher and `entente match` alike). A home token reads
// everything of a collection it has a read grant on, and a sighting names its indicator while its
// evidence (observed-data and the SCOs it names) holds the value the indicator matched. So the home
// sighting is stored, with its evidence, only beside the indicator: in each collection holding the
// version that matched as its latest and carrying no circle, whose readers read that indicator. Not in
// the default collection unless it holds that version (its readers need not read the indicator's
// collection), never in a circle's collection (unmarked, it would go to the members at the circle's
// default TLP): a circle receives only the copy its agreement allows (share-sightings.ts), marked as
// the indicator is.
import type { ObjectStore } from '../store/object-store.ts';

export interface HomeSightingPlacement {
  /** The collections holding the matched version as their latest and carrying no circle: where its readers read the indicator. */
  readonly beside: readonly string[];
  /** Those of `beside` the caller may write: where the home sighting is stored (none: stored nowhere at home). */
  readonly storeIn: readonly string[];
  /** A circle's collection holding the matched version that the caller may write: a copy may be shared there, its agreement allowing. */
  readonly sharesSomewhere: boolean;
}

/**
 * Places the home sighting of one match. `holding`: the collections whose latest version of the
 * indicator is the version that matched; `circleCollections`: the collections carrying a circle, read
 * for each batch (a circle created over a collection since takes no more home sightings there);
 * `mayWrite`: the caller's write grants (absent: the node itself, which writes every collection).
 */
export function placeHomeSighting(
  holding: readonly string[],
  circleCollections: ReadonlySet<string>,
  mayWrite: (collectionId: string) => boolean = () => true,
): HomeSightingPlacement {
  const beside = holding.filter((collectionId) => !circleCollections.has(collectionId));
  return {
    beside,
    storeIn: beside.filter(mayWrite),
    sharesSomewhere: holding.some((collectionId) => circleCollections.has(collectionId) && mayWrite(collectionId)),
  };
}

/** The collections carrying a circle now. */
export async function circleCollectionsOf(store: ObjectStore): Promise<ReadonlySet<string>> {
  return new Set((await store.listCircles()).map((circle) => circle.collectionId));
}
