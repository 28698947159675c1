// Whether a media query list (`@media …`, `<style media=…>`) holds on every screen an analyst reads a
// report on. A rule under such a condition hides text as a rule at the top level does; under any
// other it may apply or not, and the style sheet reader lets it only show text again
// (html-stylesheet.ts). A poisoned report otherwise wraps `.x{display:none}` in `@media (min-width:0)`
// and the planted text, hidden from the analyst, is read. A list that holds on no screen (print,
// speech, `not all`: mediaNeverHolds) is not read at all, or `@media print{.x{display:block}}` would
// show every hidden element again.
//
// "Every screen" is a desktop or laptop browser window: the media type is `screen` (`all` and
// `not print` hold, `print` and `speech` do not), it shows colour, and it is at least
// MIN_SCREEN_WIDTH × MIN_SCREEN_HEIGHT CSS pixels and less than MAX_SCREEN pixels each way. Only
// width, height, colour, monochrome and grid are judged; any other feature (orientation,
// prefers-color-scheme, hover, …) may or may not hold. A list that does not parse holds nowhere, as a
// browser reads it (`not all`). An @supports condition holds everywhere when it tests only properties
// the style sheet reader knows, with values valid there (supportsAlwaysHolds).
import { expand, valid } from './css-properties.ts';
import { parseSelector } from './css-selector.ts';

/** The narrowest window counted on (CSS px): a min-width at or below it holds everywhere. */
const MIN_SCREEN_WIDTH = 320;
const MIN_SCREEN_HEIGHT = 200;
/** No window is this wide or tall (CSS px): a max-width at or above it holds everywhere. */
const MAX_SCREEN = 10_000;
const MAX_QUERY_CHARS = 1_000;

type Truth = 'always' | 'never' | 'maybe';

const UNIT_PX: Readonly<Record<string, number>> = { px: 1, em: 16, rem: 16, ex: 8, ch: 8, pt: 4 / 3, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, q: 96 / 101.6 };

/** A length in CSS px (em and rem at the initial 16px), or undefined if it is not one. */
function lengthPx(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z]*)$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (m[2] === '') return n === 0 ? 0 : undefined;
  const factor = UNIT_PX[m[2] ?? ''];
  return factor === undefined ? undefined : n * factor;
}

function and(xs: readonly Truth[]): Truth {
  if (xs.includes('never')) return 'never';
  return xs.every((x) => x === 'always') ? 'always' : 'maybe';
}

function or(xs: readonly Truth[]): Truth {
  if (xs.includes('always')) return 'always';
  return xs.every((x) => x === 'never') ? 'never' : 'maybe';
}

function not(x: Truth): Truth {
  return x === 'always' ? 'never' : x === 'never' ? 'always' : 'maybe';
}

/** Splits at top-level occurrences of `sep` (commas, or the word between conditions). */
function splitTop(text: string, sep: RegExp): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth += 1;
    else if (c === ')') {
      depth -= 1;
      if (depth < 0) return undefined;
    } else if (depth === 0) {
      sep.lastIndex = i;
      const m = sep.exec(text);
      if (m !== null && m.index === i) {
        out.push(text.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  if (depth !== 0) return undefined;
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/** A size feature's truth for `dimension` compared by `op` with `px`, on every window. */
function sizeTest(dimension: 'width' | 'height', op: '>=' | '>' | '<=' | '<' | '=', px: number): Truth {
  const least = dimension === 'width' ? MIN_SCREEN_WIDTH : MIN_SCREEN_HEIGHT;
  if (op === '>=' || op === '>') return px < least || (op === '>=' && px === least) ? 'always' : 'maybe';
  if (op === '<=' || op === '<') return px >= MAX_SCREEN ? 'always' : px < 0 || (op === '<' && px === 0) ? 'never' : 'maybe';
  return 'maybe';
}

const FLIP: Readonly<Record<string, '>=' | '>' | '<=' | '<' | '='>> = { '>=': '<=', '>': '<', '<=': '>=', '<': '>', '=': '=' };

/** One parenthesised condition's inside: a feature, a range, or a nested condition. */
function feature(inside: string): Truth {
  const text = inside.trim();
  if (text.startsWith('(') || /^not\s*\(/.test(text)) return condition(text, mediaTerm);
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const name = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).trim();
    const prefix = /^(min|max)-(.*)$/.exec(name);
    const base = prefix?.[2] ?? name;
    if (base === 'width' || base === 'height' || base === 'device-width' || base === 'device-height') {
      const px = lengthPx(value);
      if (px === undefined) return 'never';
      const dimension = base.endsWith('width') ? 'width' : 'height';
      return sizeTest(dimension, prefix?.[1] === 'min' ? '>=' : prefix?.[1] === 'max' ? '<=' : '=', px);
    }
    if (base === 'color' || base === 'monochrome' || base === 'grid') {
      const n = Number(value);
      if (!/^\d+$/.test(value)) return 'never';
      // A colour screen, 8 bits a component, not monochrome, a bitmap.
      const have = base === 'color' ? 8 : 0;
      if (prefix?.[1] === 'min') return have >= n ? 'always' : 'never';
      if (prefix?.[1] === 'max') return have <= n ? 'always' : 'never';
      return have === n ? 'always' : 'never';
    }
    return 'maybe';
  }
  const range = /^(?:([^<>=]+?)\s*([<>]=?|=)\s*)?(width|height|device-width|device-height)(?:\s*([<>]=?|=)\s*([^<>=]+))?$/.exec(text);
  if (range !== null && (range[1] !== undefined || range[5] !== undefined)) {
    const dimension = range[3]?.endsWith('width') === true ? 'width' : 'height';
    const parts: Truth[] = [];
    if (range[1] !== undefined) {
      const px = lengthPx(range[1]);
      if (px === undefined) return 'never';
      parts.push(sizeTest(dimension, FLIP[range[2] ?? '='] ?? '=', px));
    }
    if (range[5] !== undefined) {
      const px = lengthPx(range[5]);
      if (px === undefined) return 'never';
      parts.push(sizeTest(dimension, (range[4] ?? '=') as '>=' | '>' | '<=' | '<' | '=', px));
    }
    return and(parts);
  }
  if (text === 'color') return 'always';
  if (text === 'monochrome' || text === 'grid') return 'never';
  return /^[a-z-]+$/.test(text) ? 'maybe' : 'never';
}

/**
 * A condition: terms (`term` reads one: `(…)`, and @supports's `selector(…)`), `not` a condition, or
 * conditions joined by `and` or by `or`. Media queries and @supports share this grammar.
 */
function condition(text: string, term: (text: string) => Truth): Truth {
  const ors = splitTop(text, /\s+or\s+/y);
  if (ors === undefined) return 'never';
  if (ors.length > 1) return or(ors.map((t) => condition(t, term)));
  const ands = splitTop(text, /\s+and\s+/y);
  if (ands === undefined) return 'never';
  if (ands.length > 1) return and(ands.map((t) => condition(t, term)));
  const negated = /^not\s+([\s\S]*)$/.exec(text);
  if (negated !== null) return not(condition(negated[1] ?? '', term));
  return term(text);
}

/** A media condition's term: a parenthesised feature, range or nested condition. */
function mediaTerm(text: string): Truth {
  return text.startsWith('(') && text.endsWith(')') ? feature(text.slice(1, -1)) : 'never';
}

const SCREEN_TYPES = new Set(['all', 'screen']);
const OTHER_TYPES = new Set(['print', 'speech', 'tty', 'tv', 'projection', 'handheld', 'braille', 'embossed', 'aural']);

/** One media query of a list. */
function query(text: string): Truth {
  const m = /^(?:(only|not)\s+)?([a-z-]+)(?:\s+and\s+([\s\S]+))?$/.exec(text);
  if (m !== null && m[2] !== 'not' && m[2] !== 'only') {
    const type = m[2] ?? '';
    const typeTruth: Truth = SCREEN_TYPES.has(type) ? 'always' : OTHER_TYPES.has(type) ? 'never' : 'never';
    const whole = m[3] === undefined ? typeTruth : and([typeTruth, condition(m[3], mediaTerm)]);
    return m[1] === 'not' ? not(whole) : whole;
  }
  return condition(text, mediaTerm);
}

/** One `(…)` of an @supports condition: a declaration, or selector(…). */
function supportsTest(inside: string): Truth {
  const text = inside.trim();
  if (text.startsWith('(') || /^not\s*\(/.test(text)) return condition(text, supportsTerm);
  const colon = text.indexOf(':');
  if (colon < 0) return 'maybe';
  const name = text.slice(0, colon).trim();
  const value = text.slice(colon + 1).trim().replace(/\s*!important$/, '');
  if (name.startsWith('--')) return 'always';
  const set = expand(name, value);
  // A property this reader does not know may be one a browser knows: not decided.
  if (set.length === 0) return 'maybe';
  return set.every(([p, v]) => valid(p, v)) ? 'always' : 'never';
}

/** An @supports condition's term: `(…)` (a declaration or a nested condition), or `selector(…)`. */
function supportsTerm(text: string): Truth {
  const selector = /^selector\(([\s\S]*)\)$/.exec(text);
  if (selector !== null) return parseSelector(selector[1] ?? '') !== undefined ? 'always' : 'maybe';
  if (text.startsWith('(') && text.endsWith(')')) return supportsTest(text.slice(1, -1));
  return 'never';
}

/**
 * Whether an @supports condition holds in every browser an analyst reads with: each declaration it
 * tests is one of the properties css-properties.ts reads, with a value valid there (a property it
 * does not know may or may not be supported).
 */
export function supportsAlwaysHolds(supports: string): boolean {
  const text = supports.trim().toLowerCase().replace(/\s+/g, ' ');
  if (text === '' || text.length > MAX_QUERY_CHARS) return false;
  return condition(text, supportsTerm) === 'always';
}

/**
 * Whether the media query list `list` holds on no screen: every query is for another medium (print,
 * speech) or `not all`. Rules under it are not read at all (`@media print{.x{display:block}}` must
 * not show hidden text again). A list this reader does not parse is not counted as holding nowhere.
 */
export function mediaNeverHolds(list: string): boolean {
  const text = list.trim().toLowerCase().replace(/\s+/g, ' ');
  if (text === '' || text.length > MAX_QUERY_CHARS) return false;
  const queries = splitTop(text, /,/y);
  if (queries === undefined) return false;
  return queries.every((q) => {
    const m = /^(?:(only|not) )?([a-z-]+)(?: and |$)/.exec(q.trim());
    if (m === null) return false;
    // print, or print and (…): a screen is never that medium; `not all` and `not screen` hold nowhere.
    return m[1] === 'not' ? q.trim() === 'not all' || q.trim() === 'not screen' : OTHER_TYPES.has(m[2] ?? '');
  });
}

/** Whether the media query list `list` holds on every screen (an empty list is `all`). */
export function mediaAlwaysHolds(list: string): boolean {
  const text = list.trim().toLowerCase().replace(/\s+/g, ' ');
  if (text === '') return true;
  if (text.length > MAX_QUERY_CHARS) return false;
  const queries = splitTop(text, /,/y);
  if (queries === undefined) return false;
  return or(queries.map(query)) === 'always';
}
