// tagText(): tags a report with the ATT&CK/ATLAS lookup table and technique model shipped in
// data/tagging/, read once on first use. The pure tagger is create-tagger.ts.
import { createTagger } from './create-tagger.ts';
import type { TagOptions, TagResult, Tagger } from './create-tagger.ts';
import { loadTaggingData } from './load-tagging-data.ts';

export { createTagger, MODEL_MIN_WORDS } from './create-tagger.ts';
export type { TagEvidence, TagMethod, TagOptions, TagResult, TaggedObject, Tagger } from './create-tagger.ts';

let shipped: Tagger | undefined;

/** Tags text with the shipped ATT&CK/ATLAS lookup and technique model (loaded on first use). */
export function tagText(text: string, options?: TagOptions): TagResult {
  if (shipped === undefined) {
    const data = loadTaggingData();
    shipped = createTagger(data.lookup, data.model);
  }
  return shipped(text, options);
}
