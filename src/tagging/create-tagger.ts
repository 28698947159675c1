// createTagger(): the ATT&CK/ATLAS techniques, software and groups a report talks about, each with
// the spans of text that support it. Three methods: explicit ids (T1059.001), names and aliases of
// groups and software, and the technique model on every sentence. Pure: the lookup table and the
// model come in as arguments (tag-text.ts binds them to the artefacts shipped in data/tagging/).
import { findExplicitIds, findNames } from './attack-lookup.ts';
import type { AttackKind, AttackLookup, AttackObject, Mention } from './attack-lookup.ts';
import { tokenize } from './features.ts';
import { splitSentences } from './split-sentences.ts';
import type { SentenceSpan } from './split-sentences.ts';
import { predictTechniques } from './technique-model.ts';
import type { TechniqueModel } from './technique-model.ts';

export type TagMethod = 'explicit' | 'name' | 'model';

export interface TagEvidence {
  /** UTF-16 offsets into the text: the id or name itself, or the whole sentence for the model. */
  readonly start: number;
  readonly end: number;
  /** The sentence holding the evidence. */
  readonly sentence: SentenceSpan;
}

export interface TaggedObject {
  /** ATT&CK/ATLAS external id (T1059.001, S0154, G0016, AML.T0051). */
  readonly id: string;
  readonly stixId: string;
  readonly name: string;
  /**
   * 1 for an explicit id, 0.9 for a name, the model's probability otherwise (best sentence; for a
   * parent technique, the probability of its whole family, see predictTechniques).
   */
  readonly confidence: number;
  readonly evidence: readonly TagEvidence[];
  /** The strongest method that found it: explicit, then name, then model. */
  readonly method: TagMethod;
}

export interface TagResult {
  readonly techniques: TaggedObject[];
  readonly software: TaggedObject[];
  readonly groups: TaggedObject[];
  readonly tactics: TaggedObject[];
  readonly mitigations: TaggedObject[];
  readonly campaigns: TaggedObject[];
}

export interface TagOptions {
  /**
   * Probability a technique needs in a sentence for the model to propose it (default: the model's
   * own). Every technique that reaches it is proposed, so a threshold near 0 proposes hundreds.
   */
  readonly threshold?: number;
  /** Which methods run (default all three), e.g. ['explicit', 'name'] to skip the model. */
  readonly methods?: readonly TagMethod[];
}

const NAME_CONFIDENCE = 0.9;
/**
 * The model reads only sentences of at least this many words: headings and table cells ("Initial
 * Access", "Domain") name a topic rather than describe what an adversary did (chosen on the
 * validation split).
 */
export const MODEL_MIN_WORDS = 5;
const METHOD_RANK: Record<TagMethod, number> = { explicit: 0, name: 1, model: 2 };
const LIST_OF: Record<AttackKind, keyof TagResult> = {
  technique: 'techniques',
  software: 'software',
  group: 'groups',
  tactic: 'tactics',
  mitigation: 'mitigations',
  campaign: 'campaigns',
};

interface Builder {
  object: AttackObject;
  confidence: number;
  method: TagMethod;
  evidence: TagEvidence[];
}

function sentenceOf(sentences: readonly SentenceSpan[], start: number, end: number): SentenceSpan {
  // Binary search for the last sentence starting at or before `start`.
  let lo = 0;
  let hi = sentences.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sentences[mid] as SentenceSpan).start <= start) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const s = sentences[found];
  if (s !== undefined && end <= s.end) return s;
  return { start, end };
}

export type Tagger = (text: string, options?: TagOptions) => TagResult;

/** A tagger over the given lookup table and technique model. Pure. */
export function createTagger(lookup: AttackLookup, model: TechniqueModel): Tagger {
  return (text, options = {}) => {
    const sentences = splitSentences(text);
    const found = new Map<string, Builder>();
    const add = (object: AttackObject, method: TagMethod, confidence: number, evidence: TagEvidence): void => {
      const b = found.get(object.id);
      if (b === undefined) {
        found.set(object.id, { object, confidence, method, evidence: [evidence] });
        return;
      }
      b.evidence.push(evidence);
      if (confidence > b.confidence) b.confidence = confidence;
      if (METHOD_RANK[method] < METHOD_RANK[b.method]) b.method = method;
    };
    const addMention = (m: Mention, method: TagMethod, confidence: number): void =>
      add(m.object, method, confidence, { start: m.start, end: m.end, sentence: sentenceOf(sentences, m.start, m.end) });

    const methods = new Set<TagMethod>(options.methods ?? ['explicit', 'name', 'model']);
    if (methods.has('explicit')) for (const m of findExplicitIds(lookup, text)) addMention(m, 'explicit', 1);
    if (methods.has('name')) for (const m of findNames(lookup, text)) addMention(m, 'name', NAME_CONFIDENCE);
    if (methods.has('model')) {
      const threshold = options.threshold ?? model.threshold;
      for (const s of sentences) {
        const sentence = text.slice(s.start, s.end);
        if (tokenize(sentence).length < MODEL_MIN_WORDS) continue;
        for (const p of predictTechniques(model, sentence, threshold)) {
          const object = lookup.byId.get(p.id);
          if (object !== undefined) add(object, 'model', p.probability, { start: s.start, end: s.end, sentence: s });
        }
      }
    }

    const result: TagResult = { techniques: [], software: [], groups: [], tactics: [], mitigations: [], campaigns: [] };
    for (const b of found.values()) {
      b.evidence.sort((x, y) => x.start - y.start || x.end - y.end);
      result[LIST_OF[b.object.kind]].push({
        id: b.object.id,
        stixId: b.object.stixId,
        name: b.object.name,
        confidence: Math.round(b.confidence * 1000) / 1000,
        evidence: b.evidence,
        method: b.method,
      });
    }
    for (const list of Object.values(result) as TaggedObject[][]) {
      list.sort((x, y) => METHOD_RANK[x.method] - METHOD_RANK[y.method] || y.confidence - x.confidence || (x.id < y.id ? -1 : 1));
    }
    return result;
  };
}
