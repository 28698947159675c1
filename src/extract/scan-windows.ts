// Cheap triggers that find the few windows of a text worth running an extractor family on. A
// regex that must be tried at every position of the text costs ~10 ns per character; these
// triggers start with a literal (or stride over the text) so the engine skips most of it, and the
// expensive Unicode-aware regexes then run only on short windows.
import type { ExtractorFamily } from './extractors.ts';

/** Window features, so rows that cannot match a window are not even run on it. */
export const FEATURE_AT = 1; // contains "@"
export const FEATURE_DIGITS4 = 2; // at least four digits
export const FEATURE_DOTS3 = 4; // at least three dots
export const FEATURE_DOTS2 = 8; // at least two dots
// A dot followed by a letter, a non-ASCII character or "7": a domain's TLD and every file extension
// (7z is the one that starts with a digit) begin so. Version numbers and figure numbers do not.
export const FEATURE_DOT_WORD = 16;
export const FEATURE_COLONS2 = 32; // at least two colons (computed for colon windows only)
// At least five colons or five dashes, as a MAC address has (computed for colon windows only).
export const FEATURE_SEPARATORS5 = 64;
export const ALL_FEATURES = 127;

/**
 * Half-open [start, end) windows, sorted and non-overlapping; `ascii` when known to be pure ASCII;
 * `features` a FEATURE_* mask (ALL_FEATURES when not computed).
 */
export type Windows = readonly (readonly [start: number, end: number, ascii: boolean, features: number])[];

function featuresOf(text: string, s: number, e: number): number {
  let at = 0;
  let digits = 0;
  let dots = 0;
  let dotWord = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      dots++;
      const n = i + 1 < e ? text.charCodeAt(i + 1) : 0;
      if (((n | 32) >= 97 && (n | 32) <= 122) || n >= 128 || n === 55) dotWord = FEATURE_DOT_WORD;
    }
    else if (c >= 48 && c <= 57) digits++;
    else if (c === 64) at = FEATURE_AT;
  }
  return at | dotWord | (digits >= 4 ? FEATURE_DIGITS4 : 0) | (dots >= 3 ? FEATURE_DOTS3 : 0) | (dots >= 2 ? FEATURE_DOTS2 : 0);
}

const TOKEN_REACH = 2048;

const DIGEST_LENGTHS: readonly number[] = [64, 40, 32];

function isUpperHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

/**
 * Length of an upper-case hex digest (MD5, SHA-1, SHA-256) glued to the lower-case name after it at
 * `s`, or 0. Text taken from a table whose cells lost their separator reads
 * "6E81…FCD6marzo.duckdns.org": the change of case is where one cell ends and the next begins.
 */
export function gluedDigestLength(text: string, s: number, e: number): number {
  let i = s;
  let letters = 0;
  while (i < e && i - s <= 64 && isUpperHex(text.charCodeAt(i))) {
    if (text.charCodeAt(i) >= 65) letters++;
    i++;
  }
  const len = i - s;
  const next = text.charCodeAt(i);
  if (!DIGEST_LENGTHS.includes(len) || !(next >= 97 && next <= 122)) return 0;
  // A real digest mixes letters and digits.
  return letters > 0 && letters < len ? len : 0;
}

/** Characters that can never be inside a network or hash token (a table: this is the hottest loop). */
const DELIMITER = new Uint8Array(65536);
for (let c = 0; c <= 32; c++) DELIMITER[c] = 1;
for (const c of [34, 39, 40, 41, 44, 59, 60, 62, 91, 93, 96, 123, 124, 125, 0xa0, 0x2018, 0x2019, 0x201c, 0x201d, 0x3000]) DELIMITER[c] = 1;

function isDelimiter(c: number): boolean {
  // NaN (before the start or past the end of the text) is a delimiter too.
  return DELIMITER[c] !== 0;
}

/** The first trigger position at or after `from`, or -1. */
type NextTrigger = (text: string, from: number) => number;

/** FEATURE_COLONS2 and FEATURE_SEPARATORS5 of [s, e). */
function colonFeaturesOf(text: string, s: number, e: number): number {
  let colons = 0;
  let dashes = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) colons++;
    else if (c === 45) dashes++;
  }
  return (colons >= 2 ? FEATURE_COLONS2 : 0) | (colons >= 5 || dashes >= 5 ? FEATURE_SEPARATORS5 : 0);
}

/** dotted: the FEATURE_* bits of featuresOf (and glued digests split off); colon: colonFeaturesOf. */
type TokenFeatures = 'dotted' | 'colon' | 'none';

function tokenWindows(text: string, nextTrigger: NextTrigger, featureKind: TokenFeatures = 'none'): Windows {
  const withFeatures = featureKind === 'dotted';
  const out: [number, number, boolean, number][] = [];
  let lastEnd = 0;
  for (let p = nextTrigger(text, 0); p >= 0; p = nextTrigger(text, lastEnd)) {
    let s = p;
    let high = 0;
    const sMin = Math.max(lastEnd, p - TOKEN_REACH);
    for (let c = text.charCodeAt(s - 1); s > sMin && !isDelimiter(c); c = text.charCodeAt(s - 1)) {
      high |= c;
      s--;
    }
    let e = p + 1;
    const eMax = Math.min(text.length, p + TOKEN_REACH);
    for (let c = text.charCodeAt(e); e < eMax && !isDelimiter(c); c = text.charCodeAt(e)) {
      high |= c;
      e++;
    }
    // The name after a glued digest is read on its own (the digest is read by the longrun family).
    if (withFeatures && p - s > 32) s += gluedDigestLength(text, s, p);
    const features = withFeatures ? featuresOf(text, s, e) : featureKind === 'colon' ? colonFeaturesOf(text, s, e) : ALL_FEATURES;
    out.push([s, e, high < 128, features]);
    lastEnd = e;
  }
  return out;
}

// A table lookup is measurably cheaper than three range comparisons in the hottest loop.
const ALNUM = new Uint8Array(65536);
for (let c = 48; c < 58; c++) ALNUM[c] = 1;
for (let c = 65; c < 91; c++) ALNUM[c] = 1;
for (let c = 97; c < 123; c++) ALNUM[c] = 1;

function isAlnum(c: number): boolean {
  return ALNUM[c] === 1;
}

const MIN_RUN = 26; // shortest legacy Bitcoin address; hashes are 32+

/**
 * Maximal alphanumeric runs of MIN_RUN characters or more (a glued digest split from the name after
 * it). A skip search: probe the last character of a MIN_RUN-long span and read back; at the first
 * character that is not alphanumeric, no run of MIN_RUN can cover it, so the next span to try
 * starts just after it. In prose a probe reads a few characters and moves on by about twenty,
 * where checking every aligned block of 13 read a few characters per 13.
 */
function longRunWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  const n = text.length;
  let lastEnd = 0;
  let last = MIN_RUN - 1; // last character of the span [last - MIN_RUN + 1, last] being tried
  while (last < n) {
    const first = last - MIN_RUN + 1;
    let i = last;
    while (i >= first && isAlnum(text.charCodeAt(i))) i--;
    if (i >= first) {
      last = i + MIN_RUN;
      continue;
    }
    let s = first;
    while (s > lastEnd && isAlnum(text.charCodeAt(s - 1))) s--;
    let e = last + 1;
    while (e < n && isAlnum(text.charCodeAt(e))) e++;
    lastEnd = e;
    const glued = e - s > 32 ? gluedDigestLength(text, s, e) : 0;
    if (glued > 0) {
      out.push([s, s + glued, true, ALL_FEATURES]);
      if (e - s - glued >= MIN_RUN) out.push([s + glued, e, true, ALL_FEATURES]);
    } else out.push([s, e, true, ALL_FEATURES]);
    // text[e] is not alphanumeric: the next run starts after it.
    last = e + MIN_RUN;
  }
  return out;
}

const LINE_REACH = 1200;

function lineWindows(text: string, nextTrigger: NextTrigger, back = LINE_REACH): Windows {
  const out: [number, number, boolean, number][] = [];
  let lastEnd = 0;
  for (let p = nextTrigger(text, 0); p >= 0; ) {
    const lineStart = text.lastIndexOf('\n', p) + 1;
    const s = Math.max(lastEnd, lineStart, p - back);
    let e = text.indexOf('\n', p);
    if (e < 0) e = text.length;
    e = Math.min(e, p + Math.max(back, LINE_REACH) * 4);
    out.push([s, e, false, ALL_FEATURES]);
    lastEnd = e;
    p = nextTrigger(text, Math.max(e, p + 1));
  }
  return out;
}

/** A "->" or "<>" (the direction of a Snort rule): found from the ">", which is rare in prose. */
export function nextArrow(text: string, from: number): number {
  for (let p = text.indexOf('>', from + 1); p >= 0; p = text.indexOf('>', p + 1)) {
    const before = text.charCodeAt(p - 1);
    if (before === 45 || before === 60) return p - 1;
  }
  return -1;
}

function nextBackslash(text: string, from: number): number {
  return text.indexOf('\\', from);
}

const URL_REACH = 4800; // longer than the longest URL the URL row accepts
/** What `\s` matches in a JavaScript regex. */
const WHITE_SPACE = new Uint8Array(65536);
for (const c of [9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]) WHITE_SPACE[c] = 1;
for (let c = 0x2000; c <= 0x200a; c++) WHITE_SPACE[c] = 1;

/** A-Z or a-z (| 32 folds upper case onto lower case; no other code unit lands in a-z). */
export function isAsciiLetter(c: number): boolean {
  const lower = c | 32;
  return lower >= 97 && lower <= 122;
}

/** Whether UTF-16 code unit `c` is white space as `\s` means it; false for NaN (out of range). */
export function isWhiteSpaceCode(c: number): boolean {
  return WHITE_SPACE[c] === 1;
}

/**
 * From just before each "://" to the next white space: a URL never contains white space, so the
 * window is the URL's own extent (a line of prose with many URLs is not rescanned for each).
 */
function schemeWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  let lastEnd = 0;
  for (let p = text.indexOf('://'); p >= 0; p = text.indexOf('://', Math.max(lastEnd, p + 1))) {
    let s = Math.max(lastEnd, p - 6);
    for (let i = p - 1; i >= s; i--) {
      if (text.charCodeAt(i) === 10) {
        s = i + 1;
        break;
      }
    }
    const eMax = Math.min(text.length, p + URL_REACH);
    let e = p + 3;
    while (e < eMax && WHITE_SPACE[text.charCodeAt(e)] === 0) e++;
    out.push([s, e, false, ALL_FEATURES]);
    lastEnd = e;
  }
  return out;
}

const YARA_LINE_PREFIX = /^[ \t]*(?:(?:private|global)[ \t]+){0,2}$/;
// The modifiers are at most two words of 7 letters and their blanks.
const YARA_KEYWORD_REACH = 40;

/** Whether "rule" followed by a blank or tab starts at `p`. */
function isYaraKeywordAt(text: string, p: number): boolean {
  const next = text.charCodeAt(p + 4);
  return (next === 32 || next === 9) && text.startsWith('rule', p);
}

/** The most white space YARA_RE allows between a rule's header and its "{" (`\s{0,64}`). */
const YARA_BRACE_GAP = 64;
/**
 * How far before its "{" a header's line may start. Bounds the look back from each brace, which on
 * a long line of JSON would otherwise scan the line again for every brace in it; a header longer
 * than this (the regex allows any run of blanks after "rule") is not read.
 */
const YARA_HEADER_SPAN = 1024;

/**
 * Where a YARA rule header can be: the line of a "{", or, when only white space comes before the
 * "{" on its line (the brace on a line of its own, a common style), the line where the last
 * non-blank character before it stands, at most YARA_BRACE_GAP white-space characters back. A line
 * starts after \n, \r, U+2028 or U+2029, as `^` does in the row's multiline regex. The header line
 * must start with "rule " after only blanks and the private/global modifiers. Found from the
 * braces, which are rare in prose, where "rule " is a common word. A window runs from the header
 * line's start past its "{" (to the end of the brace's line, at most LINE_REACH × 4 after the
 * keyword); windows never overlap, so no header is read twice.
 */
function yaraWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  let lastEnd = 0;
  // Most texts end their lines with \n alone, which indexOf finds faster than the regex.
  const onlyNewlines = !OTHER_LINE_TERMINATOR.test(text);
  for (let brace = text.indexOf('{'); brace >= 0; ) {
    let lineEnd: number;
    if (onlyNewlines) lineEnd = text.indexOf('\n', brace);
    else {
      LINE_TERMINATOR.lastIndex = brace;
      lineEnd = LINE_TERMINATOR.exec(text)?.index ?? -1;
    }
    if (lineEnd < 0) lineEnd = text.length;
    const headerLineStart = yaraHeaderLineStart(text, brace);
    if (headerLineStart >= lastEnd) {
      const reach = Math.min(headerLineStart + YARA_KEYWORD_REACH, brace);
      for (let p = headerLineStart; p <= reach; p++) {
        if (!isYaraKeywordAt(text, p) || !YARA_LINE_PREFIX.test(text.slice(headerLineStart, p))) continue;
        const end = Math.max(brace + 1, Math.min(lineEnd, p + LINE_REACH * 4));
        out.push([headerLineStart, end, false, ALL_FEATURES]);
        lastEnd = end;
        break;
      }
    }
    brace = text.indexOf('{', Math.max(lineEnd, brace + 1));
  }
  return out;
}

/** The start of the line a rule header ending before the "{" at `brace` would be on; -1 for none (see yaraWindows). */
function yaraHeaderLineStart(text: string, brace: number): number {
  let p = brace;
  while (p > 0 && brace - p < YARA_BRACE_GAP && isWhiteSpaceCode(text.charCodeAt(p - 1)) && !isLineTerminatorCode(text.charCodeAt(p - 1))) p--;
  if (p > 0 && !isWhiteSpaceCode(text.charCodeAt(p - 1))) return lineStartWithin(text, p, YARA_HEADER_SPAN);
  // Only blanks before the brace on its line: the header ends on an earlier line, within the gap.
  p = brace;
  while (p > 0 && brace - p < YARA_BRACE_GAP && isWhiteSpaceCode(text.charCodeAt(p - 1))) p--;
  if (p === 0 || isWhiteSpaceCode(text.charCodeAt(p - 1))) return -1;
  return lineStartWithin(text, p, YARA_HEADER_SPAN);
}

/** Where the line holding `at - 1` starts, if within `span` characters before `at`; else -1. */
function lineStartWithin(text: string, at: number, span: number): number {
  const limit = Math.max(0, at - span);
  for (let p = at; p > limit; p--) if (isLineTerminatorCode(text.charCodeAt(p - 1))) return p;
  return limit === 0 ? 0 : -1;
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/g;
const OTHER_LINE_TERMINATOR = /[\r\u2028\u2029]/;

/** \n, \r, U+2028, U+2029: where `^` matches in a multiline regex. */
function isLineTerminatorCode(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

// Token triggers: a character found with indexOf and a check of what follows it. indexOf of one
// character is several times faster than a regex led by the same character (the bench corpus:
// about 4 against 16 ms for the dots), and a trigger inside a window already found is never looked
// at: the search resumes at the window's end.

/** A "." followed by a character that is neither white space (\s) nor another dot. */
export function nextDotted(text: string, from: number): number {
  for (let p = text.indexOf('.', from); p >= 0; p = text.indexOf('.', p + 1)) {
    if (p + 1 >= text.length) return -1;
    const next = text.charCodeAt(p + 1);
    if (next !== 46 && WHITE_SPACE[next] === 0) return p;
  }
  return -1;
}

/** A ":" followed by [A-Za-z0-9/+:]. */
export function nextColon(text: string, from: number): number {
  for (let p = text.indexOf(':', from); p >= 0; p = text.indexOf(':', p + 1)) {
    const next = text.charCodeAt(p + 1);
    if (ALNUM[next] === 1 || next === 47 || next === 43 || next === 58) return p;
  }
  return -1;
}

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/** A character code of 0-9, a-f or A-F. */
export function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** A "_" followed by 12 lower-case hex digits and another "_" (the middle of a JA4 fingerprint). */
export function nextUnderscore(text: string, from: number): number {
  for (let p = text.indexOf('_', from); p >= 0; p = text.indexOf('_', p + 1)) {
    let i = p + 1;
    while (i <= p + 12 && isLowerHex(text.charCodeAt(i))) i++;
    if (i === p + 13 && text.charCodeAt(i) === 95) return p;
  }
  return -1;
}

/**
 * A "-" followed by two hex digits, "-", two hex digits and "-". Colon-separated MACs are in the
 * colon windows; this trigger only needs the dash form.
 */
export function nextHexSeparator(text: string, from: number): number {
  for (let p = text.indexOf('-', from); p >= 0; p = text.indexOf('-', p + 1)) {
    if (
      isHexDigit(text.charCodeAt(p + 1)) && isHexDigit(text.charCodeAt(p + 2)) && text.charCodeAt(p + 3) === 45 &&
      isHexDigit(text.charCodeAt(p + 4)) && isHexDigit(text.charCodeAt(p + 5)) && text.charCodeAt(p + 6) === 45
    ) {
      return p;
    }
  }
  return -1;
}

// The letter just before the four digits of every ATT&CK or ATLAS id: T/G/S/M, the A of TA, the S
// of CS. The id regex, with its optional "AML." group and four captures, costs twice as much a
// character as this one over the whole text.
// The digits spelled out rather than counted (\d{4}): V8 then scans the text about twice as fast
// (attack-id windows of the bench corpus: median 17.6 -> 6.0 ms, alternating runs), for the same matches.
const ATTACK_ID_TRIGGER = /[ACGMST]\d\d\d\d/g;
// An id starts at most 5 characters before its trigger ("AML.TA0001") and ends at most 9 after it
// ("T1059.001"); one more character after that is its closing \b's look at what follows.
const ATTACK_ID_BEFORE = 5;
const ATTACK_ID_AFTER = 10;

/** Adds the window [s, e) to windows found in text order, merged into the last one when they touch. */
function pushMerged(out: [number, number, boolean, number][], s: number, e: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
  else out.push([s, e, false, ALL_FEATURES]);
}

/**
 * The windows [p - before, p + after) (within the text) around each `needle` found at p with
 * indexOf that `accepts` (every one when omitted), overlapping ones merged.
 */
function windowsAround(text: string, needle: string, before: number, after: number, accepts?: (text: string, p: number) => boolean): Windows {
  const out: [number, number, boolean, number][] = [];
  for (let p = text.indexOf(needle); p >= 0; p = text.indexOf(needle, p + 1)) {
    if (accepts !== undefined && !accepts(text, p)) continue;
    pushMerged(out, Math.max(0, p - before), Math.min(text.length, p + after));
  }
  return out;
}

/**
 * Windows around every place an ATT&CK or ATLAS id can be, overlapping ones merged. The id regex
 * has no look-behind and its \b at the end always sees the real next character, so on a window it
 * finds exactly the ids the whole text holds there.
 */
export function attackIdWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  ATTACK_ID_TRIGGER.lastIndex = 0;
  for (let m = ATTACK_ID_TRIGGER.exec(text); m !== null; m = ATTACK_ID_TRIGGER.exec(text)) {
    const s = Math.max(0, m.index - ATTACK_ID_BEFORE);
    const e = Math.min(text.length, m.index + ATTACK_ID_AFTER);
    pushMerged(out, s, e);
  }
  return out;
}

// "@[" + the longest dotted quad (15) + "]".
const ADDRESS_LITERAL_LENGTH = 18;

/**
 * From each "@[" (an e-mail address with an address literal, RFC 5321) far enough for the literal
 * to close. The row's regex starts with "@[" and looks neither back nor ahead, so it matches on
 * these windows exactly where it does on the whole text; one indexOf of "@" replaces a regex scan.
 */
export function addressLiteralWindows(text: string): Windows {
  return windowsAround(text, '@', 0, ADDRESS_LITERAL_LENGTH, (t, p) => t.charCodeAt(p + 1) === 91 /* [ */);
}

// Registry roots end just before a backslash and are at most 19 characters long
// (HKEY_CURRENT_CONFIG); one more character before is the root's leading \b's look.
const REGISTRY_ROOT_REACH = 20;

/**
 * Windows ending just after each backslash that follows a letter (every registry root ends with
 * one), reaching back as far as the longest root. The root regex looks nowhere else: it finds on
 * these windows exactly what it finds on the whole text, without a case-insensitive scan of it.
 */
export function registryRootWindows(text: string): Windows {
  return windowsAround(text, '\\', REGISTRY_ROOT_REACH, 1, (t, p) => isAsciiLetter(t.charCodeAt(p - 1)));
}

// "ASN " and ten digits after "AS"; one more character on each side for the \b assertions.
const ASN_AFTER = 15;

/** Windows around each "AS" (an autonomous system number), overlapping ones merged. */
export function asnWindows(text: string): Windows {
  return windowsAround(text, 'AS', 1, ASN_AFTER);
}

// From the dash of "CVE-": three letters and the \b's look before it; four digits, a dash, at most
// seven digits and the closing \b's look after it.
const CVE_BEFORE = 4;
const CVE_AFTER = 14;

/** Whether the ASCII letters of `lowerWord` (lower case) stand just before `at`, in any case. */
function isCaselessBefore(text: string, at: number, lowerWord: string): boolean {
  const from = at - lowerWord.length;
  if (from < 0) return false;
  // | 32 folds an ASCII upper-case letter to its lower case (and maps no other character onto one).
  for (let i = 0; i < lowerWord.length; i++) if ((text.charCodeAt(from + i) | 32) !== lowerWord.charCodeAt(i)) return false;
  return true;
}

/**
 * Windows around each "-" after "cve" in any case, overlapping ones merged. A dash is several times
 * cheaper to find than a case-insensitive "cve-" (indexOf of one character against a regex scan).
 */
export function cveWindows(text: string): Windows {
  return windowsAround(text, '-', CVE_BEFORE, CVE_AFTER, (t, p) => isCaselessBefore(t, p, 'cve'));
}

/** Where `^` of a multiline regex matches: after \n, \r, U+2028 or U+2029 (or at the start). */
function isLineStart(text: string, p: number): boolean {
  return p === 0 || isLineTerminatorCode(text.charCodeAt(p - 1));
}

/**
 * Each line that starts with "title:", to its "\n" (a Sigma rule's first line), found from the
 * colons; none when the text has no "detection:", which every Sigma rule has.
 */
export function sigmaTitleWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  for (let colon = text.indexOf(':', 5); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    const start = colon - 5;
    if (!text.startsWith('title', start) || !isLineStart(text, start)) continue;
    let end = text.indexOf('\n', colon);
    if (end < 0) end = text.length;
    out.push([start, end, false, ALL_FEATURES]);
    colon = end;
  }
  return out.length > 0 && text.includes('detection:') ? out : [];
}

/**
 * The top-level directories a POSIX path is recognised from, in the order the path row's regex
 * tries them ("lib" before "lib64"): the row builds its regex from this list and the trigger below
 * reads it, so the two cannot drift apart.
 */
export const POSIX_ROOT_DIRECTORIES: readonly string[] = [
  'etc', 'tmp', 'var', 'usr', 'home', 'opt', 'bin', 'sbin', 'dev', 'lib', 'lib64', 'root', 'proc', 'sys', 'boot', 'mnt', 'srv', 'run',
  'Library', 'Users', 'Applications', 'System', 'private', 'Volumes',
];

/** The root directories by the code of their first letter (an ASCII letter). */
const ROOTS_BY_FIRST: (readonly string[] | undefined)[] = new Array<readonly string[] | undefined>(128).fill(undefined);
for (const root of POSIX_ROOT_DIRECTORIES) {
  const first = root.charCodeAt(0);
  ROOTS_BY_FIRST[first] = [...(ROOTS_BY_FIRST[first] ?? []), root];
}

/** The characters of a POSIX path match: \w . @ + - and the "/" and "~" that lead segments. */
const PATH_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) PATH_CHAR[c] = ALNUM[c] ?? 0;
for (const c of '_.@+-/~') PATH_CHAR[c.charCodeAt(0)] = 1;

function isPathChar(c: number): boolean {
  return c < 128 && PATH_CHAR[c] === 1;
}

/** Whether a POSIX path can start with the "/" at `p`: "~/", or "/" + a root directory + "/". */
function isPosixPathStart(text: string, p: number): boolean {
  if (text.charCodeAt(p - 1) === 126) return true;
  const first = text.charCodeAt(p + 1);
  const roots = first < 128 ? ROOTS_BY_FIRST[first] : undefined;
  if (roots === undefined) return false;
  for (const root of roots) if (text.charCodeAt(p + 1 + root.length) === 47 && text.startsWith(root, p + 1)) return true;
  return false;
}

/**
 * Each maximal run of path characters holding a place where a POSIX path can start. The path
 * regex matches only path characters and looks neither back nor past the first other character,
 * so on the run it finds what it finds there on the whole text, where its own scan stopped at
 * every "/" (URLs, dates, "and/or") to try two dozen directory names.
 */
export function posixRootWindows(text: string): Windows {
  const out: [number, number, boolean, number][] = [];
  let lastEnd = 0;
  for (let p = text.indexOf('/'); p >= 0; p = text.indexOf('/', Math.max(lastEnd, p + 1))) {
    if (!isPosixPathStart(text, p)) continue;
    let s = p;
    while (s > lastEnd && isPathChar(text.charCodeAt(s - 1))) s--;
    let e = p + 1;
    while (e < text.length && isPathChar(text.charCodeAt(e))) e++;
    out.push([s, e, true, ALL_FEATURES]);
    lastEnd = e;
  }
  return out;
}

export function familyWindows(text: string, family: ExtractorFamily): Windows {
  switch (family) {
    case 'dotted':
      return tokenWindows(text, nextDotted, 'dotted');
    case 'colon':
      return tokenWindows(text, nextColon, 'colon');
    case 'hexsep':
      return tokenWindows(text, nextHexSeparator);
    case 'longrun':
      return longRunWindows(text);
    case 'backslash':
      return lineWindows(text, nextBackslash);
    case 'arrow':
      return lineWindows(text, nextArrow);
    case 'yara':
      return yaraWindows(text);
    case 'scheme':
      return schemeWindows(text);
    case 'attack-id':
      return attackIdWindows(text);
    case 'address-literal':
      return addressLiteralWindows(text);
    case 'underscore':
      return tokenWindows(text, nextUnderscore);
    case 'registry-root':
      return registryRootWindows(text);
    case 'asn':
      return asnWindows(text);
    case 'cve':
      return cveWindows(text);
    case 'sigma-title':
      return sigmaTitleWindows(text);
    case 'posix-root':
      return posixRootWindows(text);
  }
}
