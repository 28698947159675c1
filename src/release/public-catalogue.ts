// Objects of MITRE's public catalogues (ATT&CK Enterprise and ATLAS), as shipped with Entente in
// data/tagging/attack-lookup.json. MITRE publishes them for everyone, so naming one in a report or a
// relationship reveals nothing beyond the referring object itself. The release gate therefore keeps a
// reference to one that this node does not hold (reports published from drafts name the techniques
// the tagger found this way), where a reference to any other object it cannot decide on is cut.
// A catalogue object that the collection does hold is decided like any other object.
import { EntenteError } from '../errors/entente-error.ts';
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import type { StixObject } from '../stix/types.ts';
import { loadCatalogueStixIds } from '../tagging/load-tagging-data.ts';

let shipped: ReadonlySet<string> | undefined;

/** The shipped catalogue's STIX ids, read once per process. */
export function publicCatalogueIds(): ReadonlySet<string> {
  shipped ??= loadCatalogueStixIds();
  return shipped;
}

/** The shipped catalogue's STIX ids; none when the catalogue is missing (then nothing held elsewhere counts as public). */
export function shippedCatalogueIdsOrNone(): ReadonlySet<string> {
  try {
    return publicCatalogueIds();
  } catch (error) {
    if (error instanceof EntenteError) return new Set();
    throw error;
  }
}

/** MITRE's identities for ATT&CK and ATLAS; ATLAS objects carry none. */
const MITRE_IDENTITIES: ReadonlySet<string> = new Set(['identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5', 'identity--f1e3e4d7-42b2-5b41-bbee-ffa8f4a03996']);

/**
 * Whether a version is a catalogue object exactly as MITRE publishes it, and so public wherever this
 * node holds it. A catalogue id says only whose object it was: a version the home organisation (or a
 * partner) made of a technique, with its own notes, is theirs and not public. What MITRE publishes
 * carries no creator but MITRE, no custom property but x_mitre_*, and no extension.
 */
export function isAsMitrePublishes(object: StixObject, catalogue: ReadonlySet<string>): boolean {
  if (!catalogue.has(object.id)) return false;
  const creator = object['created_by_ref'];
  if (creator !== undefined && !(typeof creator === 'string' && MITRE_IDENTITIES.has(creator))) return false;
  const content = withoutEntenteSignature(object);
  return !Object.hasOwn(content, 'extensions') && Object.keys(content).every((key) => !key.startsWith('x_') || key.startsWith('x_mitre_'));
}
