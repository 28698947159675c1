// Reads the tagging artefacts shipped in data/tagging/ (written by scripts/train-tagger.ts).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export function loadTaggingData(dir: string = TAGGING_DATA_DIR): TaggingData {
  const lookup = fromAttackLookupArtefact(JSON.parse(readFileSync(join(dir, LOOKUP_FILE), 'utf8')) as AttackLookupArtefact);
  const model = fromTechniqueModelArtefact(JSON.parse(readFileSync(join(dir, MODEL_FILE), 'utf8')) as TechniqueModelArtefact);
  return { lookup, model };
}
