// CSS values the hidden-text checks need (css-hiding.ts): colours (to tell text the colour of its
// background) and lengths (to tell text too small to read, or moved off the screen). Small parsers
// that answer `undefined` for what they cannot evaluate; the caller then judges nothing.

/** A colour, components 0–255 and alpha 0–1. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

// The CSS named colours (CSS Color 4), and the system colours of a light page.
const NAMED_TABLE = `
  aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff beige:f5f5dc bisque:ffe4c4
  black:000000 blanchedalmond:ffebcd blue:0000ff blueviolet:8a2be2 brown:a52a2a burlywood:deb887
  cadetblue:5f9ea0 chartreuse:7fff00 chocolate:d2691e coral:ff7f50 cornflowerblue:6495ed cornsilk:fff8dc
  crimson:dc143c cyan:00ffff darkblue:00008b darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9
  darkgreen:006400 darkgrey:a9a9a9 darkkhaki:bdb76b darkmagenta:8b008b darkolivegreen:556b2f
  darkorange:ff8c00 darkorchid:9932cc darkred:8b0000 darksalmon:e9967a darkseagreen:8fbc8f
  darkslateblue:483d8b darkslategray:2f4f4f darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3
  deeppink:ff1493 deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222
  floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc ghostwhite:f8f8ff gold:ffd700
  goldenrod:daa520 gray:808080 green:008000 greenyellow:adff2f grey:808080 honeydew:f0fff0 hotpink:ff69b4
  indianred:cd5c5c indigo:4b0082 ivory:fffff0 khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5
  lawngreen:7cfc00 lemonchiffon:fffacd lightblue:add8e6 lightcoral:f08080 lightcyan:e0ffff
  lightgoldenrodyellow:fafad2 lightgray:d3d3d3 lightgreen:90ee90 lightgrey:d3d3d3 lightpink:ffb6c1
  lightsalmon:ffa07a lightseagreen:20b2aa lightskyblue:87cefa lightslategray:778899 lightslategrey:778899
  lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6 magenta:ff00ff
  maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd mediumorchid:ba55d3 mediumpurple:9370db
  mediumseagreen:3cb371 mediumslateblue:7b68ee mediumspringgreen:00fa9a mediumturquoise:48d1cc
  mediumvioletred:c71585 midnightblue:191970 mintcream:f5fffa mistyrose:ffe4e1 moccasin:ffe4b5
  navajowhite:ffdead navy:000080 oldlace:fdf5e6 olive:808000 olivedrab:6b8e23 orange:ffa500 orangered:ff4500
  orchid:da70d6 palegoldenrod:eee8aa palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093
  papayawhip:ffefd5 peachpuff:ffdab9 peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 purple:800080
  rebeccapurple:663399 red:ff0000 rosybrown:bc8f8f royalblue:4169e1 saddlebrown:8b4513 salmon:fa8072
  sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee sienna:a0522d silver:c0c0c0 skyblue:87ceeb
  slateblue:6a5acd slategray:708090 slategrey:708090 snow:fffafa springgreen:00ff7f steelblue:4682b4
  tan:d2b48c teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0 violet:ee82ee wheat:f5deb3
  white:ffffff whitesmoke:f5f5f5 yellow:ffff00 yellowgreen:9acd32
  canvas:ffffff canvastext:000000 linktext:0000ee visitedtext:551a8b field:ffffff fieldtext:000000 buttonface:efefef
  buttontext:000000 graytext:808080 highlight:3390ff highlighttext:ffffff`;
const NAMED: ReadonlyMap<string, string> = new Map(
  NAMED_TABLE.trim()
    .split(/\s+/)
    .map((entry) => entry.split(':') as [string, string]),
);

/** Colour functions this module does not evaluate (a value with one is valid, its colour unknown). */
const OTHER_COLOUR_FUNCTION = /^(?:lab|lch|oklab|oklch|color|color-mix|light-dark|hwb|device-cmyk|contrast-color)\(/;

function hex(text: string): Rgba | undefined {
  if (!/^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(text)) return undefined;
  let h = text.slice(1);
  if (h.length <= 4) h = h.replace(/./g, '$&$&');
  const a = h.length === 8 ? parseInt(h.slice(6, 8), 16) / 255 : 1;
  return { r: parseInt(h.slice(0, 2), 16), g: parseInt(h.slice(2, 4), 16), b: parseInt(h.slice(4, 6), 16), a };
}

/** A number or percentage (of `full`), or undefined. */
function component(text: string | undefined, full: number): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return 0;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(%|deg|turn|rad|grad)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (m[2] === '%') return (n / 100) * full;
  if (m[2] === 'turn') return n * 360;
  if (m[2] === 'rad') return (n * 180) / Math.PI;
  if (m[2] === 'grad') return n * 0.9;
  return n;
}

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const f = (k: number): number => {
    const t = (k + h / 30) % 12;
    return l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(t - 3, 9 - t, 1));
  };
  return [f(0) * 255, f(8) * 255, f(4) * 255];
}

function functional(text: string): Rgba | undefined {
  const m = /^(rgba?|hsla?)\(([^()]*)\)$/.exec(text);
  if (m === null) return undefined;
  const [body = '', alpha] = (m[2] ?? '').split('/');
  const parts = body.includes(',') ? body.split(',').map((p) => p.trim()) : body.trim().split(/\s+/);
  let a = 1;
  if (alpha !== undefined) {
    if (parts.length !== 3) return undefined;
    const x = component(alpha.trim(), 1);
    if (x === undefined) return undefined;
    a = x;
  } else if (parts.length === 4) {
    const x = component(parts.pop(), 1);
    if (x === undefined) return undefined;
    a = x;
  }
  if (parts.length !== 3) return undefined;
  if ((m[1] ?? '').startsWith('rgb')) {
    const [r, g, b] = parts.map((p) => component(p, 255));
    if (r === undefined || g === undefined || b === undefined) return undefined;
    return { r: clamp(r, 0, 255), g: clamp(g, 0, 255), b: clamp(b, 0, 255), a: clamp(a, 0, 1) };
  }
  const h = component(parts[0], 360);
  const s = component(parts[1]?.endsWith('%') === true ? parts[1] : `${parts[1] ?? ''}%`, 1);
  const l = component(parts[2]?.endsWith('%') === true ? parts[2] : `${parts[2] ?? ''}%`, 1);
  if (h === undefined || s === undefined || l === undefined) return undefined;
  const [r, g, b] = hslToRgb(((h % 360) + 360) % 360, clamp(s, 0, 1), clamp(l, 0, 1));
  return { r, g, b, a: clamp(a, 0, 1) };
}

/**
 * A colour value (lower-cased): an Rgba, 'currentcolor', 'unknown' for a valid colour this module
 * does not evaluate (lab(), color-mix(), …), or undefined if it is not a colour.
 */
export function parseColour(text: string): Rgba | 'currentcolor' | 'unknown' | undefined {
  // A page repeats a few colours in thousands of style attributes.
  if (COLOURS.has(text)) return COLOURS.get(text);
  const c = parseColourText(text.trim());
  if (COLOURS.size >= MAX_REMEMBERED) COLOURS.clear();
  COLOURS.set(text, c);
  return c;
}

const COLOURS = new Map<string, Rgba | 'currentcolor' | 'unknown' | undefined>();
const MAX_REMEMBERED = 4096;

function parseColourText(t: string): Rgba | 'currentcolor' | 'unknown' | undefined {
  if (t === 'transparent') return { r: 0, g: 0, b: 0, a: 0 };
  if (t === 'currentcolor') return 'currentcolor';
  if (t.startsWith('#')) return hex(t);
  const named = NAMED.get(t);
  if (named !== undefined) return hex(`#${named}`);
  const f = functional(t.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')'));
  if (f !== undefined) return f;
  return OTHER_COLOUR_FUNCTION.test(t) ? 'unknown' : undefined;
}

/** `top` drawn over `bottom` (alpha compositing; the result is opaque if `bottom` is). */
export function over(top: Rgba, bottom: Rgba): Rgba {
  const a = top.a + bottom.a * (1 - top.a);
  if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
  const wt = top.a / a;
  const wb = (bottom.a * (1 - top.a)) / a;
  return { r: top.r * wt + bottom.r * wb, g: top.g * wt + bottom.g * wb, b: top.b * wt + bottom.b * wb, a };
}

function linear(v: number): number {
  const s = v / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

function luminance(c: Rgba): number {
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

/** The WCAG contrast ratio of text `fg` over an opaque `bg` (1: none, 21: black on white). */
export function contrast(fg: Rgba, bg: Rgba): number {
  const shown = over(fg, bg);
  const x = luminance(shown);
  const y = luminance(bg);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** What relative lengths are measured against. */
export interface LengthBasis {
  /** The font size em is relative to (CSS px). */
  readonly em: number;
  /** What 100% is (CSS px), or undefined where it is not known here (a containing block's width). */
  readonly percent?: number;
}

// A desktop window, for vw and vh; the initial font size for rem.
const VIEWPORT_WIDTH = 1280;
const VIEWPORT_HEIGHT = 800;
const ROOT_EM = 16;

const ABSOLUTE: Readonly<Record<string, number>> = { px: 1, pt: 4 / 3, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, q: 96 / 101.6 };

function unitPx(n: number, unit: string, basis: LengthBasis): number | undefined {
  if (unit === '') return n === 0 ? 0 : undefined;
  const absolute = ABSOLUTE[unit];
  if (absolute !== undefined) return n * absolute;
  if (unit === 'em') return n * basis.em;
  if (unit === 'ex' || unit === 'ch' || unit === 'cap' || unit === 'ic') return n * basis.em * (unit === 'ic' ? 1 : 0.5);
  if (unit === 'rem' || unit === 'rex' || unit === 'rch') return n * ROOT_EM * (unit === 'rem' ? 1 : 0.5);
  if (unit === 'lh') return n * basis.em * 1.2;
  if (unit === '%') return basis.percent === undefined ? undefined : (n / 100) * basis.percent;
  const viewport = /^[sld]?(vw|vh|vmin|vmax|vi|vb)$/.exec(unit)?.[1];
  if (viewport === undefined) return undefined;
  const size = viewport === 'vh' || viewport === 'vb' ? VIEWPORT_HEIGHT : viewport === 'vmin' ? Math.min(VIEWPORT_WIDTH, VIEWPORT_HEIGHT) : viewport === 'vmax' ? Math.max(VIEWPORT_WIDTH, VIEWPORT_HEIGHT) : VIEWPORT_WIDTH;
  return (n * size) / 100;
}

const NUMBER = '[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?';
const LENGTH_RE = new RegExp(`^(${NUMBER})([a-z]*|%)$`);
const MAX_CALC_CHARS = 200;

/** A length or percentage in CSS px, calc() of sums and products included; undefined where not known. */
export function lengthPx(text: string, basis: LengthBasis): number | undefined {
  const t = text.trim();
  const m = LENGTH_RE.exec(t);
  if (m !== null) return unitPx(Number(m[1]), m[2] ?? '', basis);
  const calc = /^(?:calc|-webkit-calc)\(([\s\S]*)\)$/.exec(t);
  if (calc === null || t.length > MAX_CALC_CHARS) return undefined;
  return calcPx(calc[1] ?? '', basis);
}

/** A calc() expression of lengths and numbers joined by + - * / and parentheses, in px (a number alone stays a number). */
function calcPx(expr: string, basis: LengthBasis): number | undefined {
  const tokens = expr.match(new RegExp(`${NUMBER}(?:[a-z]+|%)?|[-+*/()]`, 'g'));
  if (tokens === null || tokens.join('') !== expr.replace(/\s+/g, '')) return undefined;
  let k = 0;
  // Values carry whether they are a length (px) or a plain number.
  type V = { n: number; length: boolean } | undefined;
  const primary = (): V => {
    const tok = tokens[k++];
    if (tok === undefined) return undefined;
    if (tok === '(') {
      const v = sum();
      return tokens[k++] === ')' ? v : undefined;
    }
    const m = LENGTH_RE.exec(tok);
    if (m === null) return undefined;
    if (m[2] === '') return { n: Number(m[1]), length: false };
    const px = unitPx(Number(m[1]), m[2] ?? '', basis);
    return px === undefined ? undefined : { n: px, length: true };
  };
  const product = (): V => {
    let v = primary();
    while (v !== undefined && (tokens[k] === '*' || tokens[k] === '/')) {
      const op = tokens[k++];
      const w = primary();
      if (w === undefined || (op === '/' && (w.length || w.n === 0)) || (op === '*' && v.length && w.length)) return undefined;
      v = op === '*' ? { n: v.n * w.n, length: v.length || w.length } : { n: v.n / w.n, length: v.length };
    }
    return v;
  };
  const sum = (): V => {
    let v = product();
    while (v !== undefined && (tokens[k] === '+' || tokens[k] === '-')) {
      const op = tokens[k++];
      const w = product();
      if (w === undefined) return undefined;
      v = { n: op === '+' ? v.n + w.n : v.n - w.n, length: v.length || w.length };
    }
    return v;
  };
  const v = sum();
  if (v === undefined || k !== tokens.length) return undefined;
  return v.length || v.n === 0 ? v.n : undefined;
}

/** A number, or a percentage as a fraction (opacity: 0.5, 50%), or undefined. */
const FRACTION_RE = new RegExp(`^(${NUMBER})(%?)$`);

export function fraction(text: string): number | undefined {
  const m = FRACTION_RE.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) / (m[2] === '%' ? 100 : 1);
}
