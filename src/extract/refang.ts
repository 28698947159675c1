// Refanging: undo the "defanging" analysts apply so indicators in reports cannot be clicked
// (hxxp://evil[.]com, user[@]mail(.)ru), while remembering where every character came from so an
// extracted value can be reported with its span in the text the analyst actually sees.

export interface RefangResult {
  /** The refanged text; all extraction runs on it. */
  readonly text: string;
  /** Number of defang forms replaced. */
  readonly replacements: number;
  /** Offset in the refanged text → offset in the original text. */
  toOriginal(offset: number): number;
  /** Whether any defang form was replaced inside the refanged span [start, end). */
  defangedWithin(start: number, end: number): boolean;
}

// One alternation scanned once over the text. Every alternative starts with a character that is
// rare in prose ([ ( { x * : . d D), so the engine's first-character scan skips most of the text;
// "hxxp" is found from its "xxp" and the "h" checked in code. The forms that start with a space
// (" dot ", " . ") are found from their word or dot, the spaces checked by look-arounds after it:
// led by the space, the engine would stop at every word (a second pass of its own cost ~10 ms on
// the bench corpus, against ~5 ms for these alternatives).
const CORE =
  '[\\[({]\\s?(?:\\.|[dD][oO][tT]|@|[aA][tT])\\s?[\\])}]|\\[(?::\\/\\/|:|\\/\\/?)\\]|[xX]{1,2}[pP][sS]?(?=\\[?:)|\\*\\*[pP][sS]?(?=\\[?:)|:\\\\\\/\\\\\\/|\\[\\.|\\.\\]|\\\\[._]|[\\u2010\\u2011]';
const SPACED = '(?:dot|DOT)(?= )(?<= (?:dot|DOT))|\\.(?= )(?<= \\.)';
const DEFANG_RE = new RegExp(`${CORE}|${SPACED}`, 'g');

interface Hit {
  readonly index: number;
  readonly text: string;
}

function defangHits(text: string): Hit[] {
  const hits: Hit[] = [];
  DEFANG_RE.lastIndex = 0;
  for (let m = DEFANG_RE.exec(text); m !== null; m = DEFANG_RE.exec(text)) {
    const form = m[0];
    // A lone "dot", "DOT" or "." is a spaced form (every other alternative is longer or bracketed):
    // the hit starts at the space before it. " . . " still holds two: the second dot's look-behind
    // reads the first one's trailing space.
    if (form === '.' || form === 'dot' || form === 'DOT') hits.push({ index: m.index - 1, text: ` ${form} ` });
    else hits.push({ index: m.index, text: form });
  }
  return hits;
}

const LABEL_CHAR = /[\p{L}\p{N}]/u;

// " dot " is common English ("a dot matrix"), so it is refanged only when the label after it is a
// top-level domain or is itself followed by another " dot " (evil dot co dot uk).
function dotLabelOk(text: string, after: number, tlds: ReadonlySet<string> | undefined): boolean {
  let e = after;
  while (e < text.length && e - after < 64 && /[A-Za-z0-9-]/.test(text.charAt(e))) e++;
  if (e === after) return false;
  const rest = text.slice(e, e + 5).toLowerCase();
  if (rest === ' dot ') return true;
  const label = text.slice(after, e).toLowerCase();
  return tlds !== undefined ? tlds.has(label) : /^[a-z]{2,4}$/.test(label);
}

function replacementFor(m: string, text: string, at: number, tlds?: ReadonlySet<string>): string | null {
  const lower = m.toLowerCase();
  const c0 = lower.charCodeAt(0);
  if (c0 === 120 /* x */ || c0 === 42 /* * */) {
    // xxp → h·xxp, xp → f·xp, **p → h·**p; the letter before must start a word.
    const letter = text.charAt(at - 1).toLowerCase();
    const before = text.charCodeAt(at - 2);
    const wordBefore = (before >= 48 && before <= 57) || (before >= 65 && before <= 90) || (before >= 97 && before <= 122);
    if (wordBefore) return null;
    const s = lower.endsWith('s') ? 's' : '';
    if ((lower.startsWith('xx') || c0 === 42) && letter === 'h') return `http${s}`;
    if (!lower.startsWith('xx') && c0 === 120 && letter === 'f') return `ftp${s}`;
    return null;
  }
  if (lower === ' dot ') {
    const before = text[at - 1];
    const after = text[at + m.length];
    // Only between label characters, so "connect the dot. Then" is left alone.
    return before !== undefined && after !== undefined && LABEL_CHAR.test(before) && LABEL_CHAR.test(after) &&
      dotLabelOk(text, at + m.length, tlds)
      ? '.'
      : null;
  }
  if (lower === ' . ') {
    const before = text.charCodeAt(at - 1);
    const after = text.charCodeAt(at + m.length);
    return before >= 48 && before <= 57 && after >= 48 && after <= 57 ? '.' : null;
  }
  if (lower === '[.') {
    // "example[.com": a half-bracket defang; require a label character after it.
    const after = text[at + 2];
    return after !== undefined && LABEL_CHAR.test(after) ? '.' : null;
  }
  if (lower === '.]') {
    const before = text[at - 1];
    const after = text[at + 2];
    return before !== undefined && LABEL_CHAR.test(before) && after !== undefined && LABEL_CHAR.test(after)
      ? '.'
      : null;
  }
  if (lower === '\\.' || lower === '\\_') {
    // Markdown and regex escapes ("evil\\.com", "tbl\\_add.php"): only between label characters,
    // so a Windows path ("C:\\.config") keeps its backslash.
    const before = text[at - 1];
    const after = text[at + 2];
    const ok = before !== undefined && after !== undefined && /[A-Za-z0-9-]/.test(before) && /[A-Za-z0-9]/.test(after);
    if (!ok) return null;
    // Not when a path separator is near: "C:\\tmp\\_x" and "a\\b\\.c" are Windows paths.
    const around = text.slice(Math.max(0, at - 64), at);
    if (/\\[^_.]/.test(around)) return null;
    return lower === '\\_' ? '_' : '.';
  }
  if (lower === '\u2010' || lower === '\u2011') {
    // Typographic hyphens (word processors, PDFs) inside host names: "us\u2010nation\u2010ny.cf".
    const before = text[at - 1];
    const after = text[at + 1];
    return before !== undefined && after !== undefined && LABEL_CHAR.test(before) && LABEL_CHAR.test(after) ? '-' : null;
  }
  if (lower.includes('@') || lower.includes('at')) return '@';
  if (lower === '[://]' || lower === ':\\/\\/') return '://';
  if (lower === '[:]') return ':';
  if (lower === '[/]') return '/';
  if (lower === '[//]') return '//';
  return '.';
}

interface Segment {
  refStart: number;
  refEnd: number;
  origStart: number;
  origEnd: number;
}

export interface RefangOptions {
  /** Lower-case TLDs; when given, " dot " is refanged only before a real TLD. */
  readonly tlds?: ReadonlySet<string>;
}

/**
 * Node decodes a UTF-16 buffer of at least this many bytes into an external string (EXTERN_APEX in
 * its string_bytes.cc); below it, into a V8 string, as Array.prototype.join makes one.
 */
const EXTERNAL_STRING_BYTES = 0xfbee9;

/**
 * The pieces joined into one string. Joined by V8 for a text of a report's size (a string in V8's
 * young generation, whose pages are reused); copied through a Buffer for a text of megabytes: a
 * joined string of over ~128 KB is a fresh V8 allocation whose pages the kernel must fault in
 * (~4 ms/MB on the bench machine), while Node decodes a buffer of over ~1 MB into an external
 * string in malloc'd memory, which the allocator may hand back from one call to the next.
 * UTF-16LE copies code units as they are, lone surrogates included, so the text is the same.
 */
function joinPieces(pieces: readonly string[], length: number): string {
  if (length * 2 < EXTERNAL_STRING_BYTES) return pieces.join('');
  const buf = Buffer.allocUnsafe(length * 2);
  let at = 0;
  for (const piece of pieces) at += buf.write(piece, at, 'utf16le');
  return buf.toString('utf16le', 0, at);
}

export function refang(text: string, options: RefangOptions = {}): RefangResult {
  const segments: Segment[] = [];
  const parts: string[] = [];
  let last = 0;
  let shift = 0; // refanged offset − original offset after the last replacement
  for (const m of defangHits(text)) {
    const rep = replacementFor(m.text, text, m.index, options.tlds);
    if (rep === null) continue;
    const c0 = m.text.charCodeAt(0);
    // The scheme forms replace from the letter before the match (h/f), which is not in the hit.
    const origStart = c0 === 120 || c0 === 88 || c0 === 42 ? m.index - 1 : m.index;
    const origEnd = m.index + m.text.length;
    if (origStart < last) continue;
    parts.push(text.slice(last, origStart), rep);
    const refStart = origStart + shift;
    segments.push({ refStart, refEnd: refStart + rep.length, origStart, origEnd });
    shift += rep.length - (origEnd - origStart);
    last = origEnd;
  }
  if (segments.length === 0) {
    return {
      text,
      replacements: 0,
      toOriginal: (offset) => offset,
      defangedWithin: () => false,
    };
  }
  parts.push(text.slice(last));
  const out = joinPieces(parts, text.length + shift);

  // Last segment whose refStart ≤ offset, or −1.
  const find = (offset: number): number => {
    let lo = 0;
    let hi = segments.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segments[mid];
      if (s !== undefined && s.refStart <= offset) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  };

  return {
    text: out,
    replacements: segments.length,
    toOriginal(offset) {
      const k = find(offset);
      if (k < 0) return offset;
      const s = segments[k];
      if (s === undefined) return offset;
      if (offset < s.refEnd) return s.origStart + Math.min(offset - s.refStart, s.origEnd - s.origStart - 1);
      return s.origEnd + (offset - s.refEnd);
    },
    defangedWithin(start, end) {
      const k = find(end - 1);
      if (k < 0) return false;
      const s = segments[k];
      return s !== undefined && s.refEnd > start;
    },
  };
}
