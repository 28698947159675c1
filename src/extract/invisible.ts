// Invisible formatting characters: zero-width characters, the soft hyphen, invisible operators and
// bidi controls. A renderer (browser, mail client, PDF viewer, terminal) shows them as nothing, or
// only uses them to order what is around them, so an analyst reading a report never sees them; yet
// inside an indicator they split it for a regex. Left in, "evil\u200b.com" was not proposed at all
// and "1\u200b92.0.2.1" was proposed as 92.0.2.1, an address the report never showed.
//
// They are removed, not treated as the end of a token: the analyst accepts what they read, and what
// they read is "evil.com" and "192.0.2.1". Ending the token proposes a fragment the report does not
// show (92.0.2.1, il.com) or nothing, which a partner can use either to plant a value the analyst
// does not recognise as such or to hide one from extraction. Sites insert the same characters
// harmlessly to let long tokens wrap (hashes, URLs), where removing them is also right. The cost is
// small: a Persian IDN label may hold U+200C legitimately (IDNA CONTEXTJ), and a bidi override
// (U+202E) shows the characters after it in reverse, so the value read in logical order is not the
// one displayed; neither is common in reports, and every value that held one is flagged
// (Observable.invisible) and the document names such words in a warning (read-document.ts).
//
// This is the one place that decides which characters these are: the extractor removes them from
// every text before any row runs (extract-observables.ts), whatever reader made the text, and the
// HTML reader removes them as a browser renders them (read-html.ts).

// The ranges, inclusive: U+00AD, U+061C, U+200B–U+200F, U+202A–U+202E, U+2060–U+2064,
// U+2066–U+2069, U+FEFF. Everything else (the string, the regex class of other modules: the HTML
// reader, the URL row of extractors.ts) is derived from them, so that no copy can drift.
const INVISIBLE_RANGES: readonly (readonly [number, number])[] = [
  [0x00ad, 0x00ad], [0x061c, 0x061c], [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x2064], [0x2066, 0x2069], [0xfeff, 0xfeff],
];

const hex = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`;

/** Every invisible character, in order. */
export const INVISIBLE_CHARACTERS = INVISIBLE_RANGES.map(([from, to]) =>
  Array.from({ length: to - from + 1 }, (_, k) => String.fromCharCode(from + k)).join(''),
).join('');

/** A regex character class body for INVISIBLE_CHARACTERS (ranges, for regexes of other modules). */
export const INVISIBLE_CLASS = INVISIBLE_RANGES.map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`)).join('');

const INVISIBLE_RE = new RegExp(`[${INVISIBLE_CLASS}]`, 'g');
const HAS_INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`);

export interface StrippedText {
  /** The text without its invisible characters: extraction runs on it. */
  readonly text: string;
  /** How many characters were removed. */
  readonly removed: number;
  /** Offset of a span's start in the stripped text → in the original (past invisible characters before it). */
  toOriginalStart(offset: number): number;
  /** Offset of a span's end (exclusive) in the stripped text → in the original (invisible characters after it left out). */
  toOriginalEnd(offset: number): number;
  /** Whether a character was removed strictly inside the stripped span [start, end). */
  removedWithin(start: number, end: number): boolean;
}

const UNCHANGED = (text: string): StrippedText => ({
  text,
  removed: 0,
  toOriginalStart: (o) => o,
  toOriginalEnd: (o) => o,
  removedWithin: () => false,
});

/** `text` without its invisible characters, with the map back to `text`'s offsets. */
export function stripInvisible(text: string): StrippedText {
  // One scan and the text as it is, for the text of almost every report.
  if (!HAS_INVISIBLE.test(text)) return UNCHANGED(text);
  // at[k]: the offset in the stripped text where the k-th removed character stood (the offset of
  // the next kept character); non-decreasing. Four bytes per character: a hostile text of nothing
  // but zero-width spaces (32 Mi characters at most) costs 128 MiB here, not an object each.
  let at = new Uint32Array(64);
  let removed = 0;
  const out = text.replace(INVISIBLE_RE, (_c, offset: number) => {
    if (removed === at.length) {
      const grown = new Uint32Array(at.length * 2);
      grown.set(at);
      at = grown;
    }
    at[removed] = offset - removed;
    removed += 1;
    return '';
  });
  /** Number of removed characters whose stripped offset is < offset (strict) or ≤ offset. */
  const before = (offset: number, inclusive: boolean): number => {
    let lo = 0;
    let hi = removed;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = at[mid] as number;
      if (p < offset || (inclusive && p === offset)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    text: out,
    removed,
    toOriginalStart: (o) => o + before(o, true),
    toOriginalEnd: (o) => o + before(o, false),
    // Removed between the span's first and last characters: at a stripped offset in (start, end).
    removedWithin: (start, end) => end - start > 1 && before(end, false) > before(start, true),
  };
}

// A word that may be an indicator: it holds a dot, colon, slash, backslash, @ or a digit (prose
// words with a soft hyphen, "Infor\u00admation", do not).
const INDICATOR_LIKE = /[.:/\\@0-9]/;
const WORD_RE = /\S+/g;
const EDGES_RE = new RegExp(`^[${INVISIBLE_CLASS}]+|[${INVISIBLE_CLASS}]+$`, 'g');

/**
 * The words of `text` (runs of non-white-space) that look like indicators and hold an invisible
 * character between two visible ones, written with the characters shown as <U+XXXX>; at most `max`
 * of them, and how many there are in all.
 */
export function invisibleInWords(text: string, max = 5): { readonly count: number; readonly words: string[] } {
  const words: string[] = [];
  let count = 0;
  if (!HAS_INVISIBLE.test(text)) return { count, words };
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m !== null; m = WORD_RE.exec(text)) {
    const raw = m[0];
    if (!HAS_INVISIBLE.test(raw)) continue;
    // Trimmed of the invisible characters at its edges (an RTL report isolates its LTR values).
    const inner = raw.replace(EDGES_RE, '');
    if (!HAS_INVISIBLE.test(inner) || !INDICATOR_LIKE.test(inner)) continue;
    count += 1;
    if (words.length < max) words.push(shown(inner.length > 120 ? `${inner.slice(0, 120)}…` : inner));
  }
  return { count, words };
}

/** `word` with each invisible character written as <U+XXXX>. */
export function shown(word: string): string {
  return word.replace(INVISIBLE_RE, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}
