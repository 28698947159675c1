// Sentence segmentation for tagging: report text → spans of sentences. Pure.
// A sentence ends at '.', '!' or '?' followed by white space (or a closing quote/bracket then white
// space), at a line break, or at a blank line. Abbreviations such as "e.g." and "i.e." and decimal
// numbers ("1.5", "v2.0") do not end a sentence. Leading and trailing white space is trimmed from
// each span; empty sentences are dropped. Offsets are UTF-16 indices into the text.

export interface SentenceSpan {
  readonly start: number;
  readonly end: number;
}

const ABBREVIATIONS: ReadonlySet<string> = new Set(['e.g', 'i.e', 'etc', 'vs', 'mr', 'ms', 'dr', 'inc', 'ltd', 'co', 'no', 'fig', 'approx', 'al', 'u.s', 'st']);

/** Longest sentence kept as one span; longer runs (minified code, base64) are cut at this length. */
export const MAX_SENTENCE_CHARS = 2000;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11 || code === 0xa0;
}

function wordBefore(text: string, dot: number): string {
  let i = dot;
  while (i > 0 && !isSpace(text.charCodeAt(i - 1)) && text.charCodeAt(i - 1) !== 40) i--;
  return text.slice(i, dot).toLowerCase();
}

function pushTrimmed(out: SentenceSpan[], text: string, start: number, end: number): void {
  let s = start;
  let e = end;
  while (s < e && isSpace(text.charCodeAt(s))) s++;
  while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
  while (e - s > MAX_SENTENCE_CHARS) {
    out.push({ start: s, end: s + MAX_SENTENCE_CHARS });
    s += MAX_SENTENCE_CHARS;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
  }
  if (e > s) out.push({ start: s, end: e });
}

/** Splits text into sentence spans, in order, never overlapping. */
export function splitSentences(text: string): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      pushTrimmed(out, text, start, i);
      start = i + 1;
      continue;
    }
    if (c !== 46 && c !== 33 && c !== 63) continue; // . ! ?
    let j = i + 1;
    // Closing quotes and brackets stay with the sentence they end.
    while (j < n && ')]"\'’”'.includes(text[j] ?? '')) j++;
    if (j < n && !isSpace(text.charCodeAt(j))) continue;
    if (c === 46) {
      const word = wordBefore(text, i);
      if (ABBREVIATIONS.has(word) || (word.length === 1 && /[a-z]/.test(word))) continue;
    }
    pushTrimmed(out, text, start, j);
    start = j;
    i = j - 1;
  }
  pushTrimmed(out, text, start, n);
  return out;
}
