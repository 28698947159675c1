// Text laid out but not seen: the tricks a poisoned report turns to once display:none is caught.
// From an element's cascaded styles (html-stylesheet.ts) and what it inherits, this decides whether
// its text can be seen by the analyst who reads the rendered report:
//
// - the whole element is unseen (its content with it, whatever that says of itself): opacity below
//   MIN_OPACITY (multiplied down the tree, filter:opacity() included); moved OFF_SCREEN_PX or more to
//   the left or top (position:absolute|fixed|relative with left or top, a negative margin, translate()
//   or the translate property); scaled to nothing (scale(), the scale property); clipped to nothing (clip:rect() on a
//   positioned element, clip-path); a box of at most
//   1px that hides its overflow (the "visually hidden" pattern, for screen readers only);
// - its own text is unseen, until a descendant sets it right again: a font size below MIN_FONT_PX
//   as drawn (font-size:0, the `font: 0/0 a` trick, zoom:.01 on it or an ancestor), a text colour that is transparent or too close to the
//   colour behind it (a contrast ratio below MIN_CONTRAST; the page behind everything is white), or
//   a text-indent that moves the line off the screen.
//
// Judged only where the values are known: a background image, a colour function or a size this
// reader does not work out (min(), lab()), a percentage of a containing block, leave the text read.
// The element's position is not laid out: an element moved off the screen inside a container that
// scrolls, or a positioned child brought back, is not followed.
import { MIN_FONT_PX, MIN_OPACITY, OFF_SCREEN_PX, clipsAll, filterOpacity, mayHide, words, zoomFactor } from './css-properties.ts';
import { contrast, fraction, lengthPx, over, parseColour } from './css-values.ts';
import type { Rgba } from './css-values.ts';
import type { Visibility } from './html-stylesheet.ts';

/** Text whose contrast with what is behind it is below this cannot be told from it. */
export const MIN_CONTRAST = 1.1;

/** What an element passes on to its content, and whether its own text is seen. */
export interface Rendering {
  readonly fontPx: number;
  /** The text colour (undefined: not known here). */
  readonly color: Rgba | undefined;
  /** -webkit-text-fill-color, which paints the text instead of `color` unless it is currentcolor. */
  readonly fill: Rgba | 'currentcolor' | undefined;
  /** The opaque colour behind the element (undefined: not known, e.g. an image). */
  readonly backdrop: Rgba | undefined;
  readonly opacity: number;
  /** The zoom of the element and its ancestors multiplied (the font size is drawn that much larger or smaller). */
  readonly zoom: number;
  /** Whether text-indent moves the first line off the screen. */
  readonly indentOff: boolean;
  /** Whether the element's own text is unseen (by its size, colour or indent). */
  readonly textUnseen: boolean;
}

const BLACK: Rgba = { r: 0, g: 0, b: 0, a: 1 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 1 };

/** The page: 16px black text on the white canvas. */
export const PAGE: Rendering = { fontPx: 16, color: BLACK, fill: 'currentcolor', backdrop: WHITE, opacity: 1, zoom: 1, indentOff: false, textUnseen: false };

const FONT_KEYWORDS: Readonly<Record<string, number>> = {
  'xx-small': 9, 'x-small': 10, small: 13, medium: 16, large: 18, 'x-large': 24, 'xx-large': 32, 'xxx-large': 48, math: 16,
};
// Elements that are inline unless a style says otherwise: width and height do not apply to them.
const INLINE_ELEMENTS = new Set(['a', 'abbr', 'b', 'bdi', 'bdo', 'cite', 'code', 'data', 'dfn', 'em', 'i', 'kbd', 'mark', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var', 'font', 'tt', 'big', 'strike', 'label']);

const INHERIT = new Set(['inherit', 'unset']);

function fontPx(value: string | undefined, parent: number): number {
  if (value === undefined || INHERIT.has(value) || value === 'var()') return parent;
  if (value === 'initial' || value === 'revert' || value === 'revert-layer') return 16;
  const keyword = FONT_KEYWORDS[value];
  if (keyword !== undefined) return keyword;
  if (value === 'smaller') return parent / 1.2;
  if (value === 'larger') return parent * 1.2;
  return lengthPx(value, { em: parent, percent: parent }) ?? parent;
}

function colour(value: string | undefined, parent: Rgba | undefined): Rgba | undefined {
  if (value === undefined || INHERIT.has(value) || value === 'currentcolor') return parent;
  if (value === 'initial') return BLACK;
  const c = parseColour(value);
  return typeof c === 'object' ? c : undefined;
}

/** Whether no part of the element is seen, for a reason that takes its whole content with it. */
function wholeUnseen(tag: string, css: Visibility, opacity: number, fontSize: number): boolean {
  if (opacity < MIN_OPACITY) return true;
  const position = css.position;
  const positioned = position === 'absolute' || position === 'fixed' || position === 'relative';
  if (positioned) {
    const basis = { em: fontSize };
    const left = css.left === undefined ? undefined : lengthPx(css.left, basis);
    const top = css.top === undefined ? undefined : lengthPx(css.top, basis);
    const right = css.right === undefined ? undefined : lengthPx(css.right, basis);
    if ((left !== undefined && left <= -OFF_SCREEN_PX) || (top !== undefined && top <= -OFF_SCREEN_PX)) return true;
    // right: 9999px (with left auto) puts the element that far left of its container's right edge.
    if ((css.left === undefined || css.left === 'auto') && right !== undefined && right >= 5 * OFF_SCREEN_PX) return true;
  }
  if (css.transform !== undefined && mayHide('transform', css.transform)) return true;
  if (css.scale !== undefined && mayHide('scale', css.scale)) return true;
  if (css.translate !== undefined && mayHide('translate', css.translate)) return true;
  if ((position === 'absolute' || position === 'fixed') && css.clip !== undefined && clipsAll('clip', css.clip)) return true;
  if (css.clipPath !== undefined && clipsAll('clipPath', css.clipPath)) return true;
  // A box of at most 1px that hides what overflows it; width and height do not apply to an inline box.
  const inline = css.display === 'inline' || css.display === 'contents' || (css.display === undefined && INLINE_ELEMENTS.has(tag));
  // A negative margin of a thousand pixels moves the box as far (a layout's are a few dozen); an
  // inline box's top margin does not move it.
  const marginLeft = css.marginLeft === undefined ? undefined : lengthPx(css.marginLeft, { em: fontSize });
  const marginTop = css.marginTop === undefined || inline ? undefined : lengthPx(css.marginTop, { em: fontSize });
  if ((marginLeft !== undefined && marginLeft <= -OFF_SCREEN_PX) || (marginTop !== undefined && marginTop <= -OFF_SCREEN_PX)) return true;
  if (!inline || position === 'absolute' || position === 'fixed') {
    if (hidesOverflow(css.overflowX) && (tiny(css.width, fontSize) || tiny(css.maxWidth, fontSize))) return true;
    if (hidesOverflow(css.overflowY) && (tiny(css.height, fontSize) || tiny(css.maxHeight, fontSize))) return true;
  }
  return false;
}

function tiny(v: string | undefined, fontSize: number): boolean {
  return v !== undefined && (lengthPx(v, { em: fontSize }) ?? 2) <= 1;
}

function hidesOverflow(v: string | undefined): boolean {
  return v === 'hidden' || v === 'clip';
}

function looksAtAny(css: Visibility): boolean {
  for (const p of LOOKED_AT) if (css[p] !== undefined) return true;
  return false;
}

// Whether a cascaded style sets anything this module looks at (most elements set none).
const LOOKED_AT = ['opacity', 'filter', 'fontSize', 'color', 'textFill', 'background', 'backgroundClip', 'backgroundImage', 'position', 'textIndent', 'clipPath', 'transform', 'scale', 'translate', 'overflowX', 'overflowY', 'zoom', 'marginLeft', 'marginTop'] as const;

/**
 * What `el` (tag `tag`, cascaded styles `css`) renders as under `parent`: its Rendering, or 'unseen'
 * if nothing of it is seen.
 */
export function render(parent: Rendering, tag: string, css: Visibility): Rendering | 'unseen' {
  if (!looksAtAny(css)) return parent;
  const filter = css.filter === undefined ? 1 : (filterOpacity(css.filter) ?? 1);
  const own = css.opacity === undefined ? 1 : (fraction(css.opacity) ?? 1);
  const opacity = parent.opacity * Math.min(1, Math.max(0, own)) * filter;
  const size = fontPx(css.fontSize, parent.fontPx);
  const zoom = css.zoom === undefined ? parent.zoom : parent.zoom * zoomFactor(css.zoom);
  // The size the text is drawn at: zoom:.01 shrinks it out of sight as font-size:0 does.
  const drawn = size * zoom;
  if (wholeUnseen(tag, css, opacity, size)) return 'unseen';
  const color = colour(css.color, parent.color);
  let fill = parent.fill;
  if (css.textFill !== undefined && !INHERIT.has(css.textFill)) {
    const f = css.textFill === 'initial' ? 'currentcolor' : parseColour(css.textFill);
    fill = f === 'unknown' ? undefined : f;
  }
  let backdrop = parent.backdrop;
  const bg = css.background;
  if (bg === 'image' || bg === 'var()') backdrop = undefined;
  else if (bg !== undefined && !INHERIT.has(bg) && bg !== 'initial') {
    const c = parseColour(bg);
    const painted = c === 'currentcolor' ? color : typeof c === 'object' ? c : undefined;
    if (painted === undefined) backdrop = undefined;
    else if (painted.a > 0) backdrop = painted.a >= 1 ? painted : backdrop === undefined ? undefined : over(painted, backdrop);
  }
  // A background image (background-image, painted over the colour) is not worked out: what is behind is not known.
  const image = css.backgroundImage;
  if (image !== undefined && image !== 'none' && image !== 'initial' && image !== 'unset' && image !== 'inherit') backdrop = undefined;
  let indentOff = parent.indentOff;
  if (css.textIndent !== undefined && !INHERIT.has(css.textIndent)) {
    const px = lengthPx(words(css.textIndent)[0] ?? '', { em: size });
    indentOff = px !== undefined && px <= -OFF_SCREEN_PX;
  }
  // Gradient text (background-clip:text with a transparent colour) is painted by the background,
  // which is not worked out here: the colour of this text and its content's is not judged.
  if (css.backgroundClip !== undefined && css.backgroundClip.split(/[ ,]+/).includes('text')) {
    return { fontPx: size, color: undefined, fill: undefined, backdrop, opacity, zoom, indentOff, textUnseen: drawn < MIN_FONT_PX || indentOff };
  }
  const ink = fill === 'currentcolor' ? color : fill;
  const textUnseen =
    drawn < MIN_FONT_PX || indentOff || (ink !== undefined && (ink.a < MIN_OPACITY || (backdrop !== undefined && contrast(ink, backdrop) < MIN_CONTRAST)));
  return { fontPx: size, color, fill, backdrop, opacity, zoom, indentOff, textUnseen };
}
