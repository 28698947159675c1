// Where a home sighting goes (the running node's matcher and `entente match` alike). A home token reads
// everything of a collection it has a read grant on, and a sighting names its indicator while its
// evidence (observed-data and the SCOs it names) holds the value the indicator matched. So the home
// sighting is stored, with its evidence, beside the indicator: in each collection holding the version
// that matched as its latest and carrying no circle, whose readers read that indicator. Not in the
// default collection unless it holds that version (its readers need not read the indicator's
// collection), never in a circle's collection (it would go to the members past sighting_sharing; one
// stored before home sightings were marked, at the circle's default TLP): a circle receives only the
// copy its agreement allows (share-sightings.ts), marked as the indicator is.
// A version held by circles' collections alone (everything received from partners) has no such place:
// its home sighting goes into the home sightings collection (bootstrap-node.ts), which carries no
// circle, is shared with no one and is read only by the tokens an administrator grants it explicitly,
// so that every match leaves a record at home. Only then: when a home place exists the sighting is kept
// there, beside the indicator, and not copied into the home sightings collection as well (one record
// per match, read by the indicator's readers; an analyst granted the home sightings collection reads
// there the sightings of the indicators it may read elsewhere, release/home-sightings-gate.ts). It
// goes there only when the caller may write one of those circles' collections (always for the node
// itself and the operator's `entente match`): a token could otherwise store there a sighting it could
// store nowhere beside the indicator, as a collection it may only read.

export interface HomeSightingPlacement {
  /** The collections holding the matched version as their latest and carrying no circle: where its readers read the indicator. */
  readonly beside: readonly string[];
  /**
   * Where the home sighting is stored: those of `beside` the caller may write, or the home sightings
   * collection alone when `beside` is empty and the version is held by a circle's collection the caller
   * may write (none: stored nowhere at home).
   */
  readonly storeIn: readonly string[];
  /** A circle's collection holding the matched version that the caller may write: a copy may be shared there, its agreement allowing. */
  readonly sharesSomewhere: boolean;
  /** `storeIn` is the home sightings collection: no home place holds the matched version. */
  readonly inHomeSightings: boolean;
}

/**
 * Places the home sighting of one match. `holding`: the collections whose latest version of the
 * indicator is the version that matched; `circleCollections`: the collections carrying a circle, read
 * for each batch (a circle created over a collection since takes no more home sightings there);
 * `mayWrite`: the caller's write grants (absent: the node itself, which writes every collection);
 * `homeSightingsCollection`: the node's home sightings collection (absent: a store without one, whose
 * matches on circles' indicators leave only the circles' copies).
 */
export function placeHomeSighting(
  holding: readonly string[],
  circleCollections: ReadonlySet<string>,
  mayWrite: (collectionId: string) => boolean = () => true,
  homeSightingsCollection?: string,
): HomeSightingPlacement {
  const beside = holding.filter((collectionId) => !circleCollections.has(collectionId));
  const sharesSomewhere = holding.some((collectionId) => circleCollections.has(collectionId) && mayWrite(collectionId));
  // Never a collection carrying a circle, should one ever come to carry it (circle creation refuses it).
  const inHomeSightings = beside.length === 0 && sharesSomewhere && homeSightingsCollection !== undefined && !circleCollections.has(homeSightingsCollection);
  return {
    beside,
    storeIn: inHomeSightings ? [homeSightingsCollection] : beside.filter(mayWrite),
    sharesSomewhere,
    inHomeSightings,
  };
}
