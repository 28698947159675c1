// Objects of MITRE's public catalogues (ATT&CK Enterprise and ATLAS), as shipped with Entente in
// data/tagging/attack-lookup.json. MITRE publishes them for everyone, so naming one in a report or a
// relationship reveals nothing beyond the referring object itself. The release gate therefore keeps a
// reference to one that this node does not hold (reports published from drafts name the techniques
// the tagger found this way), where a reference to any other object it cannot decide on is cut.
// A catalogue object that the collection does hold is decided like any other object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntenteError } from '../errors/entente-error.ts';
import { withoutEntenteSignature } from '../stix/entente-signature.ts';
import type { StixObject } from '../stix/types.ts';
import type { AttackKind, AttackLookupArtefact } from '../tagging/attack-lookup.ts';
import { loadCatalogueStixIds, LOOKUP_FILE, TAGGING_DATA_DIR } from '../tagging/load-tagging-data.ts';

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

/** What the shipped catalogue says of one object: all that a copy of it may say. */
export interface CatalogueEntry {
  readonly externalId: string;
  readonly name: string;
  readonly kind: AttackKind;
}

let shippedEntries: ReadonlyMap<string, CatalogueEntry> | undefined;
let shippedPhases: ReadonlySet<string> | undefined;

/**
 * The shipped catalogue's entries by STIX id, read once per process; none when the catalogue is
 * missing or unreadable (then no copy held anywhere counts as the public entry).
 */
export function shippedCatalogueEntriesOrNone(): ReadonlyMap<string, CatalogueEntry> {
  if (shippedEntries !== undefined) return shippedEntries;
  try {
    const artefact = JSON.parse(readFileSync(join(TAGGING_DATA_DIR, LOOKUP_FILE), 'utf8')) as AttackLookupArtefact;
    shippedEntries = new Map(artefact.objects.map(([externalId, stixId, name, kind]) => [stixId, { externalId, name, kind }]));
  } catch {
    shippedEntries = new Map();
  }
  return shippedEntries;
}

/** The kill-chain phase names of the shipped catalogue: its tactics' names as STIX spells phases ("Command and Control" → command-and-control). */
function catalogueScopedPhases(catalogue: ReadonlyMap<string, CatalogueEntry>): ReadonlySet<string> {
  if (catalogue === shippedEntries && shippedPhases !== undefined) return shippedPhases;
  const phases = new Set([...catalogue.values()].filter((entry) => entry.kind === 'tactic').map((entry) => entry.name.toLowerCase().replace(/ /g, '-')));
  if (catalogue === shippedEntries) shippedPhases = phases;
  return phases;
}

const TYPES_OF_KIND: Readonly<Record<AttackKind, readonly string[]>> = {
  technique: ['attack-pattern'],
  tactic: ['x-mitre-tactic'],
  group: ['intrusion-set'],
  software: ['malware', 'tool'],
  mitigation: ['course-of-action'],
  campaign: ['campaign'],
};

/** The only properties a copy may have: those the shipped entry vouches for, and the version's dates. */
const ENTRY_PROPERTIES: ReadonlySet<string> = new Set(['type', 'spec_version', 'id', 'created', 'modified', 'created_by_ref', 'name', 'external_references', 'kill_chain_phases']);
const CATALOGUE_SOURCES: ReadonlySet<unknown> = new Set(['mitre-attack', 'mitre-atlas']);

/**
 * Whether a version says nothing but what the shipped catalogue says of that object (its type, name
 * and MITRE external id, besides its dates, MITRE as creator and, for a technique, kill-chain phases
 * named after the catalogue's tactics, which indicators take): then it is public wherever this
 * node holds it, and may be published beside a report. A catalogue id says only whose object it
 * was: a version with a description, kill-chain phases, markings or any other property may carry
 * someone's own notes (a partner's edited technique, the home's annotated one), which the shipped
 * catalogue cannot vouch for, so it is not public. The Entente signature is no content (the caller
 * publishes the version without it).
 */
export function isShippedCatalogueEntry(object: StixObject, catalogue: ReadonlyMap<string, CatalogueEntry>): boolean {
  const entry = catalogue.get(object.id);
  if (entry === undefined) return false;
  const content = withoutEntenteSignature(object);
  if (!Object.keys(content).every((key) => ENTRY_PROPERTIES.has(key))) return false;
  if (!TYPES_OF_KIND[entry.kind].includes(content.type) || content['name'] !== entry.name) return false;
  const creator = content['created_by_ref'];
  if (creator !== undefined && !(typeof creator === 'string' && MITRE_IDENTITIES.has(creator))) return false;
  const references = content['external_references'];
  if (references !== undefined && !(Array.isArray(references) && references.every((reference) => isRecord(reference)
    && Object.keys(reference).every((key) => key === 'source_name' || key === 'external_id')
    && CATALOGUE_SOURCES.has(reference['source_name']) && reference['external_id'] === entry.externalId))) return false;
  const phases = content['kill_chain_phases'];
  if (phases === undefined) return true;
  const known = catalogueScopedPhases(catalogue);
  return entry.kind === 'technique' && Array.isArray(phases) && phases.every((phase) => isRecord(phase)
    && Object.keys(phase).every((key) => key === 'kill_chain_name' || key === 'phase_name')
    && CATALOGUE_SOURCES.has(phase['kill_chain_name']) && typeof phase['phase_name'] === 'string' && known.has(phase['phase_name']));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
