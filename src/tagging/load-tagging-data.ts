// Reads the tagging artefacts shipped in data/tagging/ (written by scripts/train-tagger.ts).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntenteError } from '../errors/entente-error.ts';
import { fromAttackLookupArtefact } from './attack-lookup.ts';
import type { AttackLookup, AttackLookupArtefact } from './attack-lookup.ts';
import { fromTechniqueModelArtefact } from './technique-model.ts';
import type { TechniqueModel, TechniqueModelArtefact } from './technique-model.ts';

export const TAGGING_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'tagging');
export const LOOKUP_FILE = 'attack-lookup.json';
export const MODEL_FILE = 'technique-model.json';

export interface TaggingData {
  readonly lookup: AttackLookup;
  readonly model: TechniqueModel;
}

function readArtefact<T>(dir: string, file: string, decode: (json: never) => T): T {
  const path = join(dir, file);
  try {
    return decode(JSON.parse(readFileSync(path, 'utf8')) as never);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new EntenteError('ENT_TAGGING_DATA_INVALID', `${path}: ${why}`, { file: path }, { cause });
  }
}

/** Loads the lookup table and the technique model; throws ENT_TAGGING_DATA_INVALID naming the file. */
export function loadTaggingData(dir: string = TAGGING_DATA_DIR): TaggingData {
  const lookup = readArtefact(dir, LOOKUP_FILE, (j: AttackLookupArtefact) => fromAttackLookupArtefact(j));
  const model = readArtefact(dir, MODEL_FILE, (j: TechniqueModelArtefact) => fromTechniqueModelArtefact(j));
  return { lookup, model };
}

/**
 * The STIX ids of every ATT&CK and ATLAS object in the lookup table: MITRE's public catalogues, which
 * anyone may name (release/public-catalogue.ts). Throws ENT_TAGGING_DATA_INVALID naming the file.
 */
export function loadCatalogueStixIds(dir: string = TAGGING_DATA_DIR): ReadonlySet<string> {
  return readArtefact(dir, LOOKUP_FILE, (j: AttackLookupArtefact) => new Set(j.objects.map((row) => row[1])));
}
