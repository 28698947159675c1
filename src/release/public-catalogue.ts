// Objects of MITRE's public catalogues (ATT&CK Enterprise and ATLAS), as shipped with Entente in
// data/tagging/attack-lookup.json. MITRE publishes them for everyone, so naming one in a report or a
// relationship reveals nothing beyond the referring object itself. The release gate therefore keeps a
// reference to one that this node does not hold (reports published from drafts name the techniques
// the tagger found this way), where a reference to any other object it cannot decide on is cut.
// A catalogue object that the collection does hold is decided like any other object.
import { loadCatalogueStixIds } from '../tagging/load-tagging-data.ts';

let shipped: ReadonlySet<string> | undefined;

/** The shipped catalogue's STIX ids, read once per process. */
export function publicCatalogueIds(): ReadonlySet<string> {
  shipped ??= loadCatalogueStixIds();
  return shipped;
}
