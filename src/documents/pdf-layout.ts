// Reading order for one PDF page's text items (pure). PDF text is a bag of positioned runs in
// whatever order the producer wrote them; this puts them back into lines, top to bottom, detects a
// two-column layout (each column is read to the end before the next) and keeps table rows on one
// line with their cells separated by tabs.

/** [text, x, y (baseline, from the bottom), width, font size, end-of-line flag] as the worker sends it. */
export type PdfItem = readonly [str: string, x: number, y: number, width: number, size: number, eol: number];

export interface PdfPageItems {
  readonly page: number;
  readonly width: number;
  readonly height: number;
  readonly items: readonly PdfItem[];
}

/** A run of text that belongs together on one baseline (words close enough to be one phrase). */
interface Fragment {
  text: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
}

/** Fragments sharing a baseline, left to right. */
interface Line {
  y: number;
  fragments: Fragment[];
}

// Gaps wider than this many font sizes separate cells or columns; narrower ones are word spaces.
const CELL_GAP = 0.6;
const WORD_GAP = 0.12;

function toLines(items: readonly PdfItem[]): Line[] {
  const runs = items
    .filter((it) => it[0].trim() !== '')
    .map((it) => ({ text: it[0], x0: it[1], x1: it[1] + Math.max(0, it[3]), y: it[2], size: it[4] > 0 ? it[4] : 10 }))
    .sort((a, b) => b.y - a.y || a.x0 - b.x0);
  const lines: Line[] = [];
  let current: Fragment[] = [];
  let lineY = Number.NaN;
  let lineSize = 10;
  const flush = (): void => {
    if (current.length === 0) return;
    current.sort((a, b) => a.x0 - b.x0);
    const fragments: Fragment[] = [];
    for (const r of current) {
      const last = fragments[fragments.length - 1];
      const gap = last === undefined ? Infinity : r.x0 - last.x1;
      if (last !== undefined && gap < CELL_GAP * Math.max(last.size, r.size)) {
        const space = gap > WORD_GAP * r.size && !last.text.endsWith(' ') && !r.text.startsWith(' ') ? ' ' : '';
        last.text += space + r.text;
        last.x1 = Math.max(last.x1, r.x1);
      } else fragments.push({ ...r });
    }
    for (const f of fragments) f.text = f.text.replace(/\s+/g, ' ').trim();
    lines.push({ y: lineY, fragments: fragments.filter((f) => f.text !== '') });
    current = [];
  };
  for (const r of runs) {
    if (current.length > 0 && Math.abs(r.y - lineY) > 0.4 * Math.max(lineSize, r.size)) flush();
    if (current.length === 0) {
      lineY = r.y;
      lineSize = r.size;
    }
    current.push(r);
  }
  flush();
  return lines.filter((l) => l.fragments.length > 0);
}

/** How many of `sorted` (ascending) are below `x` (`orEqual`: at most `x`). */
function countBelow(sorted: Float64Array, x: number, orEqual = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] ?? 0;
    if (v < x || (orEqual && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedOf(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * The x of the gutter between two columns, or null for a single-column page. A gutter is an x in
 * the middle band of the page that few fragments cross, with several wide (prose) fragments ending
 * before it and several starting just after it; narrow fragments alone (table cells) do not count.
 *
 * Each candidate's counts come from binary searches over sorted edges, so a page of n fragments
 * costs O(n log n) however many candidates it has (counting by scanning was O(candidates × n)).
 */
export function findGutter(lines: readonly Line[], pageWidth: number): number | null {
  const all = lines.flatMap((l) => l.fragments);
  if (all.length < 6) return null;
  const wide = all.filter((f) => f.x1 - f.x0 > 0.18 * pageWidth);
  const candidates = [...new Set(wide.map((f) => Math.round(f.x0)))].filter((x) => x > 0.3 * pageWidth && x < 0.7 * pageWidth);
  if (candidates.length === 0) return null;
  const wideEnds = sortedOf(wide.map((f) => f.x1));
  const wideStarts = sortedOf(wide.map((f) => f.x0));
  // A fragment crosses g when x0 < g - 1 and x1 > g, which needs it to be wider than 1. For those,
  // "x0 >= g - 1" and "x1 <= g" cannot both hold, so crossing = #(x0 < g - 1) - #(x1 <= g).
  const spans = all.filter((f) => f.x1 - f.x0 > 1);
  const spanStarts = sortedOf(spans.map((f) => f.x0));
  const spanEnds = sortedOf(spans.map((f) => f.x1));
  let best: { g: number; score: number } | null = null;
  for (const x of candidates) {
    const g = x - 0.5;
    const left = countBelow(wideEnds, g, true);
    const right = wide.length - countBelow(wideStarts, g - 1);
    const crossing = countBelow(spanStarts, g - 1) - countBelow(spanEnds, g, true);
    if (left >= 3 && right >= 3 && crossing <= 0.15 * all.length) {
      const score = Math.min(left, right) - 2 * crossing;
      if (best === null || score > best.score) best = { g, score };
    }
  }
  return best === null ? null : best.g;
}

function lineText(fragments: readonly Fragment[]): string {
  return fragments.map((f) => f.text).join('\t');
}

/** The page's lines in reading order. */
export function layoutPdfPage(page: PdfPageItems): string[] {
  const lines = toLines(page.items);
  const gutter = findGutter(lines, page.width);
  if (gutter === null) return lines.map((l) => lineText(l.fragments));
  const out: string[] = [];
  let leftCol: string[] = [];
  let rightCol: string[] = [];
  const flushRegion = (): void => {
    out.push(...leftCol, ...rightCol);
    leftCol = [];
    rightCol = [];
  };
  for (const line of lines) {
    const crosses = line.fragments.some((f) => f.x0 < gutter - 1 && f.x1 > gutter);
    if (crosses) {
      // A full-width line (heading, figure caption) ends the two-column region above it.
      flushRegion();
      out.push(lineText(line.fragments));
      continue;
    }
    const left = line.fragments.filter((f) => f.x1 <= gutter);
    const right = line.fragments.filter((f) => f.x1 > gutter);
    if (left.length > 0) leftCol.push(lineText(left));
    if (right.length > 0) rightCol.push(lineText(right));
  }
  flushRegion();
  return out;
}
