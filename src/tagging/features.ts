// Sentence features for the technique model: lower-cased word tokens, unigrams and bigrams. Pure.
// The training script (scripts/train-tagger.ts) and tagText() both use these functions, so the
// features a sentence gets at run time are exactly the ones the model was trained on.

const TOKEN = /[a-z0-9]+/g;

// Light suffix stripping, so that "injects", "injected" and "injecting" share a feature. Longest
// suffix first; the stem keeps at least four letters.
const SUFFIXES = ['ations', 'ation', 'ments', 'ment', 'ings', 'ing', 'ies', 'ied', 'ers', 'er', 'ed', 'es', 'ly', 's'];

export function stem(word: string): string {
  if (word.length <= 4 || /[0-9]/.test(word)) return word;
  for (const suffix of SUFFIXES) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 4) {
      const base = word.slice(0, -suffix.length);
      return suffix === 'ies' || suffix === 'ied' ? `${base}y` : base;
    }
  }
  return word;
}

/** Words of a sentence: lower-case ASCII letters and digits; numbers of two or more digits become "<n>". */
export function tokenize(sentence: string): string[] {
  const lower = sentence.toLowerCase();
  const out: string[] = [];
  for (const m of lower.matchAll(TOKEN)) {
    const w = m[0];
    if (/^[0-9]+$/.test(w)) {
      if (w.length >= 2) out.push('<n>');
      continue;
    }
    if (w.length === 1) continue;
    out.push(w);
  }
  return out;
}

/** Feature strings of a sentence: each distinct stemmed unigram, and each distinct bigram joined by a space. */
export function featureStrings(sentence: string): string[] {
  const words = tokenize(sentence).map(stem);
  const out = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    out.add(w);
    if (i + 1 < words.length) out.add(`${w} ${words[i + 1] as string}`);
  }
  return [...out];
}

/** Sparse vector with sorted, distinct indices. */
export interface SparseVector {
  readonly index: Uint32Array;
  readonly value: Float32Array;
}

/**
 * TF-IDF (binary term frequency × idf), L2-normalised, over a fixed vocabulary. Features outside
 * the vocabulary are ignored; a sentence with none gets an empty vector.
 */
export function vectorize(sentence: string, vocabulary: ReadonlyMap<string, number>, idf: Float32Array): SparseVector {
  const idx: number[] = [];
  for (const f of featureStrings(sentence)) {
    const i = vocabulary.get(f);
    if (i !== undefined) idx.push(i);
  }
  idx.sort((a, b) => a - b);
  const index = Uint32Array.from(idx);
  const value = new Float32Array(index.length);
  let norm = 0;
  for (let k = 0; k < index.length; k++) {
    const v = idf[index[k] as number] ?? 0;
    value[k] = v;
    norm += v * v;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let k = 0; k < value.length; k++) value[k] = (value[k] as number) * inv;
  }
  return { index, value };
}
