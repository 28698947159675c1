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

// One alternation scanned once over the text. Every alternative starts with a literal character
// so the engine never backtracks more than the few characters of a form; context conditions
// (" dot " between label characters, " . " between digits, "x.]") are checked in code instead of
// with look-behinds, which would defeat the regex engine's fast first-character scan.
const DEFANG =
  /\bh(?:xx|\*\*|XX)p(s?)(?=\[?:)|\bfxp(s?)(?=\[?:)|\[\s?(?:\.|dot)\s?\]|\(\s?(?:\.|dot)\s?\)|\{\s?(?:\.|dot)\s?\}|\[(?:@|at)\]|\((?:@|at)\)|\{(?:@|at)\}|\[:\/\/\]|\[:\]|\[\/\/?\]|:\\\/\\\/| dot | \. |\[\.|\.\]/gi;

const LABEL_CHAR = /[\p{L}\p{N}]/u;

function replacementFor(m: string, text: string, at: number): string | null {
  const lower = m.toLowerCase();
  const c0 = lower.charCodeAt(0);
  if (c0 === 104 /* h */) return lower.endsWith('s') ? 'https' : 'http';
  if (c0 === 102 /* f */) return lower.endsWith('s') ? 'ftps' : 'ftp';
  if (lower === ' dot ') {
    const before = text[at - 1];
    const after = text[at + m.length];
    // Only between label characters, so "connect the dot. Then" is left alone.
    return before !== undefined && after !== undefined && LABEL_CHAR.test(before) && LABEL_CHAR.test(after)
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

export function refang(text: string): RefangResult {
  const segments: Segment[] = [];
  const parts: string[] = [];
  let last = 0;
  let shift = 0; // refanged offset − original offset after the last replacement
  DEFANG.lastIndex = 0;
  for (let m = DEFANG.exec(text); m !== null; m = DEFANG.exec(text)) {
    const rep = replacementFor(m[0], text, m.index);
    if (rep === null) {
      // Let overlapping forms starting inside this one be tried, e.g. " . " then ".]".
      DEFANG.lastIndex = m.index + 1;
      continue;
    }
    const origStart = m.index;
    const origEnd = m.index + m[0].length;
    parts.push(text.slice(last, origStart), rep);
    const refStart = origStart + shift;
    segments.push({ refStart, refEnd: refStart + rep.length, origStart, origEnd });
    shift += rep.length - m[0].length;
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
  const out = parts.join('');

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
