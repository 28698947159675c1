// Invisible characters: what Unicode calls default-ignorable code points (the property
// Default_Ignorable_Code_Point): zero-width characters, the soft hyphen, invisible operators, bidi
// controls, variation selectors, tag characters. Unicode tells a renderer that does not support one
// to show it as nothing, and text shaping engines do (HarfBuzz, which Chrome and Firefox use, hides
// them): an analyst reading a report never sees them, or sees only their effect on the characters
// around them (order, glyph variant); yet inside an indicator they split it for a regex. Left in,
// "evil\u200b.com" was not proposed at all and "1\u200b92.0.2.1" was proposed as 92.0.2.1, an address
// the report never showed.
//
// Two exceptions to the property, both HarfBuzz's own. The Hangul fillers (U+115F, U+1160, U+3164,
// U+FFA0) are drawn, not hidden, by HarfBuzz and Uniscribe: with the font's glyph, a blank as wide as
// a letter, and a tofu box where the font has none. They are read as a space (BLANK_RANGES), as the
// analyst sees them: removed, "185.220.101.4" U+3164 "45.77.12.3" (two addresses on screen) gave
// none, and "evil" U+3164 "planted.com" proposed evilplanted.com. Since a renderer that follows
// Unicode's advice would show nothing there, a word that holds one still gets the warning. The
// shorthand format controls (U+1BCA0-U+1BCA3) HarfBuzz leaves to the font too, but they are removed
// here: IDNA maps them to nothing, so a host name that holds one is the name without it.
//
// They are removed, not treated as the end of a token: the analyst accepts what they read, and what
// they read is "evil.com" and "192.0.2.1". Ending the token proposes a fragment the report does not
// show (92.0.2.1, il.com) or nothing, which a partner can use either to plant a value the analyst
// does not recognise as such or to hide one from extraction. Sites insert the same characters
// harmlessly to let long tokens wrap (hashes, URLs), where removing them is also right. The cost is
// small: a bidi override (U+202E) shows the characters after it in reverse, so the value read in
// logical order is not the one displayed, and a variation selector only chooses the glyph of the
// character before it; neither is common in an indicator, and every value that held one is flagged
// (Observable.invisible) and the document names such words in a warning (read-document.ts).
//
// One exception to the removal: the joiners U+200C (ZWNJ) and U+200D (ZWJ) where IDNA's CONTEXTJ
// rules (RFC 5892 appendix A.1, A.2) allow them in a host name label are kept (isKeptJoiner). There
// they are not hidden: they change the letters around them (a Persian word's letters stay unjoined
// at a ZWNJ, a Devanagari consonant after a virama and a ZWJ takes its half form), and the name
// with the joiner is another host than the name without it (xn--ngba799q.com is not xn--ngba.com).
// Removed, "ب\u200cب.com" was proposed as a domain the report does not name, and flagged and warned
// of as disguised. The rules need a virama before the joiner (and, here, a letter or mark of the
// virama's script both before the virama and after the joiner: where the joiner changes what is
// drawn), or a left- or dual-joining letter before a ZWNJ and a right- or dual-joining one after it
// (here, of the same script), with only marks between. No Latin letter, digit or punctuation is either, so a joiner inside a
// Latin name, an address or a hash is still removed: it cannot split or smuggle one, nor, after a
// virama put on a Latin letter, name another host that looks the same. The marks skipped between
// are visible ones only: an invisible character there makes the joiner removed, as before, rather
// than kept in a context the reader cannot see.
//
// This is the one place that decides which characters these are: the extractor removes them from
// every text before any row runs (extract-observables.ts), whatever reader made the text, and the
// HTML reader removes them as a browser renders them (read-html.ts); both read the blanks as spaces
// and keep the same joiners. A test checks the two sets against the JavaScript engine's own table
// of the property, so a later Unicode version that adds one fails it.

import { JOINING_LEFT_RANGES, JOINING_RIGHT_RANGES, JOINING_SCRIPTS, JOINING_TRANSPARENT_RANGES, VIRAMA_RANGES, VIRAMA_SCRIPTS } from './joining-data.ts';

// The ranges, inclusive, in code points. Everything else (the string, the regex class of other
// modules: the HTML reader, the URL row of extractors.ts) is derived from them, so that no copy can
// drift.
const INVISIBLE_RANGES: readonly (readonly [number, number])[] = [
  [0x00ad, 0x00ad], // soft hyphen
  [0x034f, 0x034f], // combining grapheme joiner
  [0x061c, 0x061c], // Arabic letter mark (a bidi mark)
  [0x17b4, 0x17b5], // Khmer inherent vowels (no glyph; Unicode advises against their use)
  [0x180b, 0x180f], // Mongolian free variation selectors and vowel separator
  [0x200b, 0x200f], // zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
  [0x202a, 0x202e], // bidi embeddings and overrides
  [0x2060, 0x206f], // word joiner, invisible operators, bidi isolates, deprecated format characters
  [0xfe00, 0xfe0f], // variation selectors (U+FE0F asks for an emoji's colour glyph)
  [0xfeff, 0xfeff], // zero-width no-break space (byte-order mark)
  [0xfff0, 0xfff8], // unassigned, kept default-ignorable by Unicode
  [0x1bca0, 0x1bca3], // shorthand format controls
  [0x1d173, 0x1d17a], // musical symbol formatting (begin beam, end slur...)
  // Tags (U+E0000–U+E007F: "ASCII smuggling" spells a whole hidden text with them, read by a
  // language model but never seen), variation selectors supplement (U+E0100–U+E01EF) and the rest of
  // the plane's block, unassigned but default-ignorable. Two UTF-16 units each.
  [0xe0000, 0xe0fff],
];

// Default-ignorable, but drawn as a blank (the opening comment): read as a space. One UTF-16 unit
// each, so replacing them moves no offset.
const BLANK_RANGES: readonly (readonly [number, number])[] = [
  [0x115f, 0x1160], // Hangul choseong and jungseong fillers
  [0x3164, 0x3164], // Hangul filler
  [0xffa0, 0xffa0], // halfwidth Hangul filler
];

// \u{...}: valid only in a regex with the u flag, and a syntax error without it ("}-\u" is a range
// out of order), so a regex built over the class without the flag is refused where it is built
// instead of matching the halves of an astral character. Every user must pass 'u'.
const hex = (code: number): string => `\\u{${code.toString(16)}}`;

const charactersOf = (ranges: readonly (readonly [number, number])[]): string =>
  ranges.map(([from, to]) => Array.from({ length: to - from + 1 }, (_, k) => String.fromCodePoint(from + k)).join('')).join('');
const classOf = (ranges: readonly (readonly [number, number])[]): string =>
  ranges.map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`)).join('');

/** Every invisible character, in order (astral ones as surrogate pairs). */
export const INVISIBLE_CHARACTERS = charactersOf(INVISIBLE_RANGES);

/** The default-ignorable characters drawn as a blank (Hangul fillers), read as a space. */
export const BLANK_CHARACTERS = charactersOf(BLANK_RANGES);

/**
 * A regex character class body for INVISIBLE_CHARACTERS (ranges, for regexes of other modules).
 * Only for a regex with the `u` flag: it holds astral code points, and without the flag the regex
 * cannot be built (a SyntaxError), rather than silently matching half a character.
 */
export const INVISIBLE_CLASS = classOf(INVISIBLE_RANGES);

/**
 * INVISIBLE_CLASS without U+200C and U+200D, for a regex that must let a kept joiner (isKeptJoiner)
 * through and judges the joiners itself (`u` flag, as INVISIBLE_CLASS).
 */
export const INVISIBLE_CLASS_BUT_JOINERS = classOf(
  INVISIBLE_RANGES.flatMap(([from, to]): (readonly [number, number])[] =>
    from <= 0x200d && to >= 0x200c ? ([[from, 0x200b], [0x200e, to]] as const).filter(([a, b]) => a <= b) : [[from, to]],
  ),
);

/** A regex character class body for BLANK_CHARACTERS (`u` flag, as INVISIBLE_CLASS). */
export const BLANK_CLASS = classOf(BLANK_RANGES);

/** Whether the code point `code` is an invisible character. */
export function isInvisible(code: number): boolean {
  for (const [from, to] of INVISIBLE_RANGES) {
    if (code < from) return false;
    if (code <= to) return true;
  }
  return false;
}

// A joiner kept where IDNA's CONTEXTJ rules allow it (the opening comment): after a virama, between
// visible characters of the virama's script, either joiner; a ZWNJ between a left- or dual-joining
// letter and a right- or dual-joining one of the same script, with transparent marks between.
// Sticky, and run only at a joiner. The runs of marks are bounded by a label's 63 characters, so a
// text of marks costs no more per joiner than a label does. The v flag is for the set differences:
// the marks skipped, and the character after a joiner, must be visible. Joining type T also holds
// format characters that are not default-ignorable (the interlinear annotation controls U+FFF9-
// U+FFFB, the Egyptian hieroglyph format controls), most drawn as nothing: they are not skipped
// either.
const TRANSPARENT = `[[${classOf(JOINING_TRANSPARENT_RANGES)}]--[\\p{Cf}${INVISIBLE_CLASS}]]`;
// After a virama, the character before the virama and the one after the joiner must both be of the
// virama's own script (VIRAMA_SCRIPTS): stricter than IDNA, which reads only the virama. Between the
// letters of its script the joiner changes how they are drawn; on a Latin letter ("pay\u094d\u200dpal")
// it changes nothing on screen, yet the name with it is another host than the one without it, so it
// is removed and the value flagged, as any other invisible character. Any virama is looked for
// first, so that a joiner after none costs one test, not one per script.
const AFTER_VIRAMA = VIRAMA_SCRIPTS.map(({ viramas, letters }) => {
  const own = `[[${classOf(letters)}]--[${INVISIBLE_CLASS}]]`;
  return `(?<=${own}[${classOf(viramas)}].)(?=${own})`;
}).join('|');
// A ZWNJ likewise only between two letters of one script (JOINING_SCRIPTS): letters of two scripts
// do not join (a shaper takes each script's run apart), so one between an Arabic and a Syriac letter
// changes nothing on screen. Any joining letters are looked for first, as any virama above.
const BETWEEN_JOINING = JOINING_SCRIPTS.map(
  ({ left, right }) => `(?<=[${classOf(left)}]${TRANSPARENT}{0,61}\\u200c)(?=${TRANSPARENT}{0,61}[${classOf(right)}])`,
).join('|');
// The joiner comes first (its context is looked at behind it, itself included), so the engine
// scans for the two characters rather than trying the context at every position.
const KEPT_JOINER = new RegExp(
  `[\\u200c\\u200d](?:(?<=[${classOf(VIRAMA_RANGES)}].)(?:${AFTER_VIRAMA})` +
    `|(?<=[${classOf(JOINING_LEFT_RANGES)}]${TRANSPARENT}{0,61}\\u200c)(?=${TRANSPARENT}{0,61}[${classOf(JOINING_RIGHT_RANGES)}])(?:${BETWEEN_JOINING}))`,
  'vy',
);

/**
 * Whether the ZWNJ or ZWJ at `at` in `text` is one IDNA allows in a host name label (CONTEXTJ) and
 * a reader sees (after a virama, only between characters of its script): kept, not removed as
 * invisible. False for any other character.
 */
export function isKeptJoiner(text: string, at: number): boolean {
  KEPT_JOINER.lastIndex = at;
  return KEPT_JOINER.test(text);
}

/** The offset of the first ZWNJ or ZWJ in `text` [from, to) that is not a kept joiner (removed), or -1. */
export function firstRemovedJoiner(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x200c || c === 0x200d) && !isKeptJoiner(text, i)) return i;
  }
  return -1;
}

// The same pattern, anywhere: one scan inside the engine decides whether a text that holds joiners
// keeps any, so a text whose joiners all go (a Latin one) is not judged joiner by joiner.
const HAS_KEPT_JOINER = new RegExp(KEPT_JOINER.source, 'v');

const isJoiner = (c: string): boolean => c === '\u200c' || c === '\u200d';
const hasJoiner = (text: string): boolean => text.includes('\u200c') || text.includes('\u200d');
/** Whether `text` holds a joiner to keep: the two includes first, so a text without joiners costs two scans for a character. */
const keepsJoiner = (text: string): boolean => hasJoiner(text) && HAS_KEPT_JOINER.test(text);
/** For String.prototype.replace over INVISIBLE_RE: removes the character unless it is a kept joiner. */
const removeUnlessKept = (c: string, offset: number, whole: string): string => (isJoiner(c) && isKeptJoiner(whole, offset) ? c : '');

const INVISIBLE_RE = new RegExp(`[${INVISIBLE_CLASS}]`, 'gu');
const HAS_INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, 'u');
const BLANK_RE = new RegExp(`[${BLANK_CLASS}]`, 'gu');
const HAS_BLANK = new RegExp(`[${BLANK_CLASS}]`, 'u');
// What the warning names: either kind.
const UNSEEN_CLASS = `${INVISIBLE_CLASS}${BLANK_CLASS}`;
const HAS_UNSEEN = new RegExp(`[${UNSEEN_CLASS}]`, 'u');

export interface StrippedText {
  /** The text without its invisible characters, its blanks (Hangul fillers) spaces: extraction runs on it. */
  readonly text: string;
  /** How many UTF-16 units were removed (two for an astral character). */
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

/**
 * `text` as a renderer shows it: without its invisible characters, its blanks (Hangul fillers) as
 * spaces. stripInvisible's text, without the map back (the HTML reader keeps its own, read-html.ts).
 */
export function renderedText(text: string): string {
  return (keepsJoiner(text) ? text.replace(INVISIBLE_RE, removeUnlessKept) : text.replace(INVISIBLE_RE, '')).replace(BLANK_RE, ' ');
}

/**
 * `text` without its invisible characters and with its blanks as spaces (a space for a space: no
 * offset moves), with the map back to `text`'s offsets.
 */
export function stripInvisible(original: string): StrippedText {
  const text = HAS_BLANK.test(original) ? original.replace(BLANK_RE, ' ') : original;
  // One scan and the text as it is, for the text of almost every report.
  if (!HAS_INVISIBLE.test(text)) return UNCHANGED(text);
  // at[k]: the offset in the stripped text where the k-th removed UTF-16 unit stood (the offset of
  // the next kept character); non-decreasing. An astral character (a tag) is two units, so two
  // entries at the same offset: offsets are counted in units, as a string's are. Four bytes per
  // unit: a hostile text of nothing but zero-width spaces (32 Mi characters at most) costs 128 MiB
  // here, not an object each.
  let at = new Uint32Array(64);
  let removed = 0;
  const keeps = keepsJoiner(text);
  const out = text.replace(INVISIBLE_RE, (c: string, offset: number) => {
    if (keeps && isJoiner(c) && isKeptJoiner(text, offset)) return c;
    for (let unit = 0; unit < c.length; unit++) {
      if (removed === at.length) {
        const grown = new Uint32Array(at.length * 2);
        grown.set(at);
        at = grown;
      }
      at[removed] = offset + unit - removed;
      removed += 1;
    }
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
const EDGES_RE = new RegExp(`^[${UNSEEN_CLASS}]+|[${UNSEEN_CLASS}]+$`, 'gu');
const UNSEEN_RE = new RegExp(`[${UNSEEN_CLASS}]`, 'gu');
// A keycap emoji ("1️⃣"): a digit, # or *, U+FE0F, U+20E3, the sequence Unicode's emoji data lists for
// it. Its U+FE0F only asks for the emoji glyph of a keycap the reader sees either way, so the warning
// leaves it out; it is still removed, and still flags a value whose span holds it. Only this exact
// place: U+FE0F after a digit with no keycap mark after it hides nothing on screen but sits inside
// the address, and \p{Emoji} would take every digit, # and *.
const KEYCAP_SELECTOR = /(?<=[0-9#*])\ufe0f(?=\u20e3)/gu;
const HAS_UNSEEN_BUT_JOINERS = new RegExp(`[${INVISIBLE_CLASS_BUT_JOINERS}${BLANK_CLASS}]`, 'u');

/**
 * The words of `text` (runs of non-white-space) that look like indicators and hold an invisible
 * character or a blank (a Hangul filler, which a renderer may show as nothing) between two visible ones
 * (a keycap emoji's own U+FE0F aside), written with the characters shown as <U+XXXX>; at most `max`
 * of them, and how many there are in all.
 */
export function invisibleInWords(text: string, max = 5): { readonly count: number; readonly words: string[] } {
  const words: string[] = [];
  let count = 0;
  if (!HAS_UNSEEN.test(text)) return { count, words };
  const keeps = keepsJoiner(text);
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m !== null; m = WORD_RE.exec(text)) {
    const raw = m[0];
    if (!HAS_UNSEEN.test(raw)) continue;
    // Trimmed of the invisible characters at its edges (an RTL report isolates its LTR values).
    const inner = raw.replace(EDGES_RE, '');
    const judged = inner.includes('\u20e3') ? inner.replace(KEYCAP_SELECTOR, '') : inner;
    if (!INDICATOR_LIKE.test(judged)) continue;
    // A kept joiner (isKeptJoiner) is read, not removed: nothing to warn of. Judged one by one only
    // in a text that keeps one.
    if (keeps ? !HAS_UNSEEN_BUT_JOINERS.test(judged) && firstRemovedJoiner(judged, 0, judged.length) < 0 : !HAS_UNSEEN.test(judged)) continue;
    count += 1;
    if (words.length < max) words.push(shown(inner.length > 120 ? `${inner.slice(0, 120)}…` : inner));
  }
  return { count, words };
}

/**
 * `word` with each invisible character or blank written as <U+XXXX> (its code point: <U+E0041> for a
 * tag, not half of it); a kept joiner (isKeptJoiner) as it is, since it is read as written.
 */
export function shown(word: string): string {
  return word.replace(UNSEEN_RE, (c: string, at: number) =>
    isJoiner(c) && isKeptJoiner(word, at) ? c : `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}
