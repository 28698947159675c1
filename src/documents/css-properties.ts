// The CSS properties that can hide text from a reader, as the style sheet reader (html-stylesheet.ts)
// cascades them: which declarations set them (shorthands expanded), which values are valid (an
// invalid one is dropped, as a browser drops it, so `.a{opacity:0} .a{opacity:x}` stays hidden), and
// which values may hide on their own (mayHide: a rule that may or may not apply, under @media or a
// selector this reader cannot decide, is let through only in the direction that is safe).
// css-hiding.ts decides from the cascaded values whether text is seen.
import { fraction, lengthPx, parseColour } from './css-values.ts';

export type Property =
  | 'display' | 'visibility' | 'contentVisibility' | 'opacity' | 'filter' | 'fontSize' | 'color' | 'textFill' | 'background'
  | 'position' | 'left' | 'top' | 'right' | 'textIndent' | 'clip' | 'clipPath' | 'transform' | 'width' | 'height' | 'maxWidth'
  | 'maxHeight' | 'overflowX' | 'overflowY' | 'scale' | 'translate' | 'backgroundClip' | 'backgroundImage' | 'zoom' | 'marginLeft' | 'marginTop';

const LONGHANDS: Readonly<Record<string, Property>> = {
  display: 'display', visibility: 'visibility', 'content-visibility': 'contentVisibility', opacity: 'opacity', filter: 'filter',
  'font-size': 'fontSize', color: 'color', '-webkit-text-fill-color': 'textFill', 'background-color': 'background', position: 'position',
  left: 'left', top: 'top', right: 'right', 'text-indent': 'textIndent', clip: 'clip', 'clip-path': 'clipPath', '-webkit-clip-path': 'clipPath',
  transform: 'transform', '-webkit-transform': 'transform', width: 'width', height: 'height', 'max-width': 'maxWidth',
  'max-height': 'maxHeight', 'overflow-x': 'overflowX', 'overflow-y': 'overflowY', scale: 'scale', translate: 'translate',
  'background-clip': 'backgroundClip', '-webkit-background-clip': 'backgroundClip', 'background-image': 'backgroundImage', zoom: 'zoom',
  'margin-left': 'marginLeft', 'margin-top': 'marginTop', 'margin-inline-start': 'marginLeft', 'margin-block-start': 'marginTop',
};
/** Shorthands read (each sets one or more of the properties). */
export const SHORTHANDS: ReadonlySet<string> = new Set(['font', 'background', 'inset', 'overflow', 'margin']);

/** Whether a declaration's name may be one read here (a cheap test on a whole block first). */
export const MENTIONS_PROPERTY = /display|visib|opacity|filter|font|color|background|position|left|top|right|inset|indent|clip|transform|scale|translate|width|height|overflow|zoom|margin|--/i;

export const GLOBAL = ['inherit', 'initial', 'unset', 'revert', 'revert-layer'];
const DISPLAY_WORDS = new Set([
  'none', 'contents', 'block', 'inline', 'run-in', 'flow', 'flow-root', 'table', 'flex', 'grid', 'ruby', 'list-item', 'math',
  'table-row-group', 'table-header-group', 'table-footer-group', 'table-row', 'table-cell', 'table-column-group', 'table-column',
  'table-caption', 'ruby-base', 'ruby-text', 'ruby-base-container', 'ruby-text-container', 'inline-block', 'inline-table',
  'inline-flex', 'inline-grid', 'inline-list-item', '-webkit-box', '-webkit-inline-box', '-moz-box', '-moz-inline-box', '-ms-flexbox',
  '-ms-inline-flexbox', '-webkit-flex', '-webkit-inline-flex', '-ms-grid', '-ms-inline-grid',
]);
const FONT_SIZE_WORDS = new Set(['xx-small', 'x-small', 'small', 'medium', 'large', 'x-large', 'xx-large', 'xxx-large', 'smaller', 'larger', 'math']);
const POSITION_WORDS = new Set(['static', 'relative', 'absolute', 'fixed', 'sticky', '-webkit-sticky']);
const OVERFLOW_WORDS = new Set(['visible', 'hidden', 'clip', 'scroll', 'auto', 'overlay']);
const SIZE_WORDS = new Set(['auto', 'none', 'min-content', 'max-content', 'fit-content', 'stretch', '-webkit-fill-available', '-moz-available', '-moz-fit-content', '-webkit-fit-content']);
// Functions whose value is not worked out here: valid, not judged.
const MATH_FUNCTION = /^(?:min|max|clamp|round|mod|rem|abs|sign|sin|cos|tan|env|attr|anchor|anchor-size)\(/;

/** Lengths read with the initial font size; what % is of is not known here. */
const BASIS = { em: 16 };
const BASIS_FONT = { em: 16, percent: 16 };

function isLength(v: string): boolean {
  return lengthPx(v, BASIS_FONT) !== undefined || /^(?:[+-]?(?:\d+\.?\d*|\.\d+)%|(?:-webkit-)?calc\()/.test(v) || MATH_FUNCTION.test(v);
}

/** Whether `value` (lower-cased, white space collapsed, no var()) is valid for `property`. */
export function valid(property: Property, value: string): boolean {
  if (GLOBAL.includes(value)) return true;
  switch (property) {
    case 'display': {
      const words = value.split(' ');
      return words.length <= 3 && words.every((w) => DISPLAY_WORDS.has(w)) && (words.length === 1 || !words.includes('none'));
    }
    case 'visibility':
      return value === 'visible' || value === 'hidden' || value === 'collapse';
    case 'contentVisibility':
      return value === 'visible' || value === 'auto' || value === 'hidden';
    case 'opacity':
      return fraction(value) !== undefined || MATH_FUNCTION.test(value) || value.startsWith('calc(');
    case 'fontSize':
      return FONT_SIZE_WORDS.has(value) || isLength(value);
    case 'color':
    case 'textFill':
    case 'background':
      return parseColour(value) !== undefined || value === 'image' || MATH_FUNCTION.test(value);
    case 'position':
      return POSITION_WORDS.has(value);
    case 'left':
    case 'top':
    case 'right':
    case 'marginLeft':
    case 'marginTop':
      return value === 'auto' || isLength(value);
    case 'textIndent':
      return value.split(' ').every((w) => w === 'hanging' || w === 'each-line' || isLength(w));
    case 'width':
    case 'height':
    case 'maxWidth':
    case 'maxHeight':
      return SIZE_WORDS.has(value) || isLength(value) || value.startsWith('fit-content(');
    case 'overflowX':
    case 'overflowY':
      return OVERFLOW_WORDS.has(value);
    case 'clip':
      return value === 'auto' || value.startsWith('rect(');
    case 'filter':
    case 'clipPath':
    case 'transform':
    case 'scale':
    case 'translate':
    case 'backgroundClip':
    case 'backgroundImage':
      return value !== '';
    case 'zoom':
      return value === 'normal' || value === 'reset' || (fraction(value) ?? -1) >= 0;
  }
}

/** Splits a value at its top-level spaces (not inside parentheses). */
export function words(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ' ' && depth === 0) {
      if (i > start) out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (start < value.length) out.push(value.slice(start));
  return out;
}

/** The `font` shorthand's size (before an optional /line-height), or 'medium' for a system font. */
function fontSize(value: string): string | undefined {
  for (const w of words(value.replace(/\s*\/\s*/g, '/'))) {
    const size = w.split('/')[0] ?? '';
    // A bare number is a weight (700), not a size; 0 is a size.
    if (FONT_SIZE_WORDS.has(size) || (size !== '' && !/^\d+$/.test(size) && isLength(size)) || size === '0') return size;
  }
  return /^(?:caption|icon|menu|message-box|small-caption|status-bar)$/.test(value) ? 'medium' : undefined;
}

/** The `background` shorthand's colour: 'image' when it paints an image (what is behind the text is then unknown). */
function backgroundColour(value: string): string {
  if (/(?:url|gradient|image|image-set|element|cross-fade|paint)\(/.test(value)) return 'image';
  for (const w of words(value)) if (parseColour(w) !== undefined) return w;
  return 'transparent';
}

/** A declaration `name: value` (name and value lower-cased, no !important) as the properties it sets. */
export function expand(name: string, value: string): [Property, string][] {
  const property = LONGHANDS[name];
  if (property !== undefined) return [[property, value]];
  if (!SHORTHANDS.has(name)) return [];
  const global = GLOBAL.includes(value) || /\bvar\(/.test(value);
  switch (name) {
    case 'font': {
      const size = global ? value : fontSize(value);
      return size === undefined ? [] : [['fontSize', size]];
    }
    case 'background': {
      const colour = global ? value : backgroundColour(value);
      return [
        ['background', colour],
        ['backgroundClip', global ? value : words(value).includes('text') ? 'text' : 'border-box'],
        // The shorthand sets the image too (to none when it names none).
        ['backgroundImage', global ? value : colour === 'image' ? 'image' : 'none'],
      ];
    }
    case 'inset': {
      const [top = value, right = top, , left = right] = global ? [] : words(value);
      return [['top', top], ['right', right], ['left', left]];
    }
    case 'margin': {
      const [top = value, right = top, , left = right] = global ? [] : words(value);
      return [['marginTop', top], ['marginLeft', left]];
    }
    default: {
      const [x = value, y = x] = global ? [] : words(value);
      return [['overflowX', x], ['overflowY', y]];
    }
  }
}

/** The factor a zoom value scales by (1 for normal, reset, 0 and what is not a number or a percentage). */
export function zoomFactor(value: string): number {
  const f = fraction(value);
  return f === undefined || f <= 0 ? 1 : f;
}

/** The least opacity at which text still counts as seen; the least font size (CSS px). */
export const MIN_OPACITY = 0.1;
export const MIN_FONT_PX = 3;
/** How far (CSS px) to the left or above the page an element must be moved to count as off the screen. */
export const OFF_SCREEN_PX = 1000;

/** Opacity of a filter's opacity() functions (1 if none, undefined where not known). */
export function filterOpacity(value: string): number | undefined {
  let out = 1;
  for (const m of value.matchAll(/opacity\(([^()]*)\)/g)) {
    const f = fraction(m[1] ?? '');
    if (f === undefined) return undefined;
    out *= f;
  }
  return out;
}

/** Whether a clip: rect() leaves no area (the "visually hidden" pattern), or a clip-path shape none. */
export function clipsAll(property: 'clip' | 'clipPath', value: string): boolean {
  if (property === 'clip') {
    const m = /^rect\(([^()]*)\)$/.exec(value);
    const sides = m?.[1]?.split(/\s*,\s*|\s+/).map((s) => (s === 'auto' ? undefined : lengthPx(s, BASIS)));
    if (sides?.length !== 4) return false;
    const [top, right, bottom, left] = sides;
    return (top !== undefined && bottom !== undefined && bottom - top <= 1) || (left !== undefined && right !== undefined && right - left <= 1);
  }
  const inset = /^inset\(([^()]*)\)/.exec(value);
  if (inset !== null) {
    const [t, r = t, b = t, l = r] = (inset[1] ?? '').split(/\s+round\s+/)[0]?.trim().split(/\s+/) ?? [];
    const pct = (s: string | undefined): number => (s?.endsWith('%') === true ? Number(s.slice(0, -1)) : 0);
    return pct(t) + pct(b) >= 100 || pct(l) + pct(r) >= 100;
  }
  const shape = /^(circle|ellipse)\(\s*([^\s()]+)(?:\s+([^\s()]+))?/.exec(value);
  if (shape !== null) {
    const zero = (s: string | undefined): boolean => s !== undefined && s !== 'at' && lengthPx(s, { em: 16, percent: 100 }) === 0;
    return shape[1] === 'circle' ? zero(shape[2]) : zero(shape[2]) || zero(shape[3]);
  }
  const polygon = /^polygon\(([^()]*)\)$/.exec(value);
  if (polygon !== null) {
    const points = (polygon[1] ?? '').replace(/^(?:nonzero|evenodd)\s*,/, '').split(',').map((p) => p.trim().replace(/\s+/g, ' '));
    return points.length > 0 && points.every((p) => p === points[0]);
  }
  return false;
}

/** What a transform does to the element: scaled to nothing, or moved off the screen to the left or top. */
function transformHides(value: string): boolean {
  for (const m of value.matchAll(/(scale|scalex|scaley|scale3d|translate|translatex|translatey|translate3d|matrix)\(([^()]*)\)/g)) {
    const args = (m[2] ?? '').split(/\s*,\s*|\s+/).filter((a) => a !== '');
    const fn = m[1] ?? '';
    if (fn === 'matrix') {
      if (matrixHides(args)) return true;
    } else if (fn.startsWith('scale')) {
      const n = args.map((a) => fraction(a));
      const used = fn === 'scale3d' ? n.slice(0, 2) : n.slice(0, fn === 'scale' ? 2 : 1);
      if (used.some((x) => x !== undefined && Math.abs(x) < 0.05)) return true;
    } else {
      const px = args.map((a) => lengthPx(a, BASIS));
      const moved = fn === 'translatey' ? [undefined, px[0]] : fn === 'translatex' ? [px[0], undefined] : [px[0], px[1]];
      if (moved.some((x) => x !== undefined && x <= -OFF_SCREEN_PX)) return true;
    }
  }
  return false;
}

/**
 * Whether matrix(a, b, c, d, e, f) flattens the element to nothing (the parallelogram it maps the
 * box to is less than 0.05 of its size across, as scale(0.05) is: matrix(0,0,0,0,0,0), or (1,2,1,2)
 * onto a line) or moves it off the screen (e, f are px).
 */
function matrixHides(args: readonly string[]): boolean {
  if (args.length !== 6) return false;
  const n = args.map((x) => Number(x));
  if (!n.every((x) => Number.isFinite(x))) return false;
  const [a = 1, b = 0, c = 0, d = 1, e = 0, f = 0] = n;
  const longest = Math.max(Math.hypot(a, b), Math.hypot(c, d));
  // The area of the parallelogram over its longest side: its width across.
  if (longest === 0 || Math.abs(a * d - b * c) / longest < 0.05) return true;
  return e <= -OFF_SCREEN_PX || f <= -OFF_SCREEN_PX;
}

/** The standalone scale and translate properties as the transform function they apply. */
function asTransform(property: 'transform' | 'scale' | 'translate', value: string): string {
  return property === 'transform' || value === 'none' ? value : `${property}(${words(value).join(',')})`;
}

/**
 * Whether `value` for `property` may hide text on its own (in combination with others). A rule that
 * may not apply (@media, css-media.ts) only counts where it does not; one whose selector may not
 * match (css-selector.ts) only where it does. Colours always may (text is hidden by a colour only
 * against another), so conditional colours are never applied.
 */
export function mayHide(property: Property, value: string): boolean {
  switch (property) {
    case 'display':
      return value === 'none';
    case 'visibility':
      return value === 'hidden' || value === 'collapse';
    case 'contentVisibility':
      return value === 'hidden';
    case 'opacity': {
      const f = fraction(value);
      return f !== undefined && f < MIN_OPACITY;
    }
    case 'filter': {
      const f = filterOpacity(value);
      return f !== undefined && f < MIN_OPACITY;
    }
    case 'fontSize': {
      const px = lengthPx(value, BASIS_FONT);
      return px !== undefined && px < MIN_FONT_PX;
    }
    case 'color':
    case 'textFill':
    case 'background':
      return true;
    case 'position':
      return value === 'absolute' || value === 'fixed' || value === 'relative';
    case 'left':
    case 'top':
    case 'marginLeft':
    case 'marginTop': {
      const px = lengthPx(value, BASIS);
      return px !== undefined && px <= -OFF_SCREEN_PX;
    }
    case 'right': {
      const px = lengthPx(value, BASIS);
      return px !== undefined && px >= 5 * OFF_SCREEN_PX;
    }
    case 'textIndent': {
      const px = lengthPx(words(value)[0] ?? '', BASIS);
      return px !== undefined && px <= -OFF_SCREEN_PX;
    }
    case 'clip':
    case 'clipPath':
      return clipsAll(property, value);
    case 'transform':
    case 'scale':
    case 'translate':
      return transformHides(asTransform(property, value));
    case 'width':
    case 'height':
    case 'maxWidth':
    case 'maxHeight': {
      const px = lengthPx(value, BASIS);
      return px !== undefined && px <= 1;
    }
    case 'overflowX':
    case 'overflowY':
      return value === 'hidden' || value === 'clip';
    case 'backgroundClip':
    case 'backgroundImage':
      // An image behind the text makes its colour unknown: it can only make text seen.
      return false;
    case 'zoom': {
      // It multiplies the size of everything under it (zoom:0 is taken as no zoom).
      const f = zoomFactor(value);
      return f < 1;
    }
  }
}
