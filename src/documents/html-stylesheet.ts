// What a page's own style sheets say about showing an element: a small, conservative reader of the
// CSS in its <style> elements, for the three properties that hide text (display:none,
// visibility:hidden|collapse, content-visibility:hidden), so that a report cannot hide planted
// indicators behind `.h{display:none}` where the reader only looked at inline styles.
//
// Conservative means: where it is unsure, the text stays visible (and is read). Only rules at the
// top level of a style sheet (or of a cascade layer, @layer, or of an @media whose condition holds on
// every screen, css-media.ts) hide anything. Rules inside other @media, @supports, @container and the
// like may apply or not, so they can only show an element again (a mobile-first page hides a column,
// then shows it on wide screens); other at-rules are skipped. Selectors are type, `*`,
// .class, #id and [attribute] tests, joined by descendant, child (>) or sibling (+, ~) combinators; a
// selector with a pseudo-class or -element (:hover, :checked, ::before: interactive or generated;
// :is() and :not() too) or a namespace is left out of its list, the rest of the list still applies. Values are
// checked: an invalid one is dropped, as a browser drops it. Custom properties are not resolved: a
// var() value counts as one that shows the element. The cascade: !important, then inline style over
// a style sheet, then specificity, then the later rule. Nothing is fetched (<link rel=stylesheet>,
// @import).
//
// Hostile CSS is bounded: MAX_STYLESHEET_CHARS of it is read, a selector of more than
// MAX_SELECTOR_COMPOUNDS compound selectors is left out, nesting of at-rules is followed
// MAX_AT_RULE_DEPTH deep, and matching stops after MAX_MATCH_STEPS compound tests; the caller is told
// (`truncated`, `exhausted`) so that the analyst can be.
import type { DefaultTreeAdapterMap } from 'parse5';
import { mediaAlwaysHolds } from './css-media.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Characters of <style> text read per page (256 KiB); rules past it are not applied. */
export const MAX_STYLESHEET_CHARS = 256 * 1024;
/** Compound selectors in one complex selector (`div .a > p` has three); longer ones are left out. */
const MAX_SELECTOR_COMPOUNDS = 8;
/** Compound-selector tests while matching one page; past it no rule matches (and the caller warns). */
const MAX_MATCH_STEPS = 1_000_000;
const MAX_AT_RULE_DEPTH = 4;
// At-rules whose blocks hold style rules that apply under some condition (or in a layer).
const GROUPING_AT_RULES = new Set(['media', 'supports', 'container', 'layer', 'scope', 'document', '-moz-document', 'starting-style']);

/** What an element's styles say about showing it: the winning value of each property, lower-cased. */
export interface Visibility {
  readonly display?: string;
  readonly visibility?: string;
  readonly contentVisibility?: string;
  /** Whether a winning value that hides came from a style sheet (rather than the style attribute). */
  readonly bySheet: boolean;
}

type Property = 'display' | 'visibility' | 'contentVisibility';
const PROPERTIES: Readonly<Record<string, Property>> = { display: 'display', visibility: 'visibility', 'content-visibility': 'contentVisibility' };
const GLOBAL = ['inherit', 'initial', 'unset', 'revert', 'revert-layer'];
const DISPLAY_WORDS = new Set([
  'none', 'contents', 'block', 'inline', 'run-in', 'flow', 'flow-root', 'table', 'flex', 'grid', 'ruby', 'list-item', 'math',
  'table-row-group', 'table-header-group', 'table-footer-group', 'table-row', 'table-cell', 'table-column-group', 'table-column',
  'table-caption', 'ruby-base', 'ruby-text', 'ruby-base-container', 'ruby-text-container', 'inline-block', 'inline-table',
  'inline-flex', 'inline-grid', 'inline-list-item', '-webkit-box', '-webkit-inline-box', '-moz-box', '-moz-inline-box', '-ms-flexbox',
  '-ms-inline-flexbox', '-webkit-flex', '-webkit-inline-flex', '-ms-grid', '-ms-inline-grid',
]);
const VISIBILITY_WORDS = new Set(['visible', 'hidden', 'collapse', ...GLOBAL]);
const CONTENT_VISIBILITY_WORDS = new Set(['visible', 'auto', 'hidden', ...GLOBAL]);

function valid(property: Property, value: string): boolean {
  if (property === 'visibility') return VISIBILITY_WORDS.has(value);
  if (property === 'contentVisibility') return CONTENT_VISIBILITY_WORDS.has(value);
  if (GLOBAL.includes(value)) return true;
  const words = value.split(' ');
  return words.length <= 3 && words.every((w) => DISPLAY_WORDS.has(w)) && (words.length === 1 || !words.includes('none'));
}

function hides(property: Property, value: string): boolean {
  if (property === 'display') return value === 'none';
  if (property === 'visibility') return value === 'hidden' || value === 'collapse';
  return value === 'hidden';
}

interface Declaration {
  readonly property: Property;
  readonly value: string;
  readonly important: boolean;
}

/** The declarations of a style attribute or rule block that set one of the three properties, valid ones only, in order. */
function parseDeclarations(block: string): Declaration[] {
  const out: Declaration[] = [];
  if (!/visibility|display/i.test(block)) return out;
  for (const piece of splitDeclarations(block)) {
    const colon = piece.indexOf(':');
    if (colon < 0) continue;
    const property = PROPERTIES[piece.slice(0, colon).trim().toLowerCase()];
    if (property === undefined) continue;
    let value = piece.slice(colon + 1).trim().toLowerCase();
    const important = /!\s*important$/.test(value);
    if (important) value = value.replace(/!\s*important$/, '').trim();
    value = value.replace(/\s+/g, ' ');
    // A custom property is valid when the rule is parsed and resolved later; it is not resolved here,
    // so it counts as a value that shows the element (it does override an earlier display:none).
    if (/\bvar\(/.test(value)) out.push({ property, value: 'var()', important });
    else if (valid(property, value)) out.push({ property, value, important });
  }
  return out;
}

/** Index past the string starting at `at` (a quote), or the end of the line or text where it breaks off. */
function skipString(css: string, at: number, end: number): number {
  const quote = css[at];
  let i = at + 1;
  while (i < end) {
    const c = css[i];
    if (c === '\\') i += 2;
    else if (c === quote) return i + 1;
    else if (c === '\n') return i;
    else i += 1;
  }
  return end;
}

/** Index of the `}` closing the block opened at `open`, or `end` if it is never closed (a browser closes it there). */
function blockEnd(css: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; ) {
    const c = css[i];
    if (c === '"' || c === "'") {
      i = skipString(css, i, end);
      continue;
    }
    if (c === '\\') i += 1;
    else if (c === '{') depth += 1;
    else if (c === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
    i += 1;
  }
  return end;
}

/** The declarations of a block, split at `;`, strings respected; nested rules (CSS nesting) left out. */
function splitDeclarations(block: string): string[] {
  const out: string[] = [];
  let start = 0;
  let paren = 0;
  for (let i = 0; i < block.length; ) {
    const c = block[i];
    if (c === '"' || c === "'") {
      i = skipString(block, i, block.length);
      continue;
    }
    if (c === '\\') i += 1;
    else if (c === '(') paren += 1;
    else if (c === ')') paren = Math.max(0, paren - 1);
    else if (c === ';' && paren === 0) {
      out.push(block.slice(start, i));
      start = i + 1;
    } else if (c === '{') {
      // A nested rule, selector and block: it applies to other elements, not read.
      i = blockEnd(block, i, block.length) + 1;
      start = i;
      continue;
    }
    i += 1;
  }
  out.push(block.slice(start));
  return out;
}

interface AttributeTest {
  readonly name: string;
  readonly op?: string;
  readonly value: string;
  readonly caseless: boolean;
}

interface Compound {
  readonly tag?: string;
  readonly ids: readonly string[];
  readonly classes: readonly string[];
  readonly attributes: readonly AttributeTest[];
}

type Combinator = ' ' | '>' | '+' | '~';

interface Selector {
  /** Left to right; `combinators[i]` joins compounds i and i+1 (' ' for a descendant). */
  readonly compounds: readonly Compound[];
  readonly combinators: readonly Combinator[];
  readonly specificity: number;
}

const NAME_CHAR = /[A-Za-z0-9_\-\u0080-\uFFFF]/;

/** Reads CSS selectors (a small recursive-descent parser over one selector's text). */
class SelectorParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): boolean {
    const from = this.i;
    while (this.i < this.s.length && /[ \t\n\r\f]/.test(this.s[this.i] ?? '')) this.i += 1;
    return this.i > from;
  }

  /** A name (escapes decoded), or undefined if none starts here or an escape is broken. */
  private name(): string | undefined {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i] ?? '';
      if (c === '\\') {
        const hex = /^[0-9A-Fa-f]{1,6}[ \t\n\r\f]?/.exec(this.s.slice(this.i + 1, this.i + 8));
        if (hex !== null) {
          const code = parseInt(hex[0].trim(), 16);
          out += code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? '\uFFFD' : String.fromCodePoint(code);
          this.i += 1 + hex[0].length;
        } else {
          const next = this.s[this.i + 1];
          if (next === undefined || next === '\n') return undefined;
          out += next;
          this.i += 2;
        }
      } else if (NAME_CHAR.test(c)) {
        out += c;
        this.i += 1;
      } else break;
    }
    return out === '' ? undefined : out;
  }

  /** An identifier: a name that does not start with a digit, or a hyphen and a digit. */
  private ident(): string | undefined {
    const raw = this.s.slice(this.i, this.i + 2);
    if (/^(?:[0-9]|-[0-9])/.test(raw)) return undefined;
    return this.name();
  }

  private attribute(): AttributeTest | undefined {
    this.i += 1;
    this.ws();
    const name = this.ident()?.toLowerCase();
    if (name === undefined) return undefined;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i += 1;
      return { name, value: '', caseless: false };
    }
    const op = /^[~|^$*]?=/.exec(this.s.slice(this.i, this.i + 2))?.[0];
    if (op === undefined) return undefined;
    this.i += op.length;
    this.ws();
    let value: string | undefined;
    const q = this.s[this.i];
    if (q === '"' || q === "'") {
      const end = skipString(this.s, this.i, this.s.length);
      if (this.s[end - 1] !== q || end - 1 === this.i) return undefined;
      value = this.s.slice(this.i + 1, end - 1).replace(/\\(.)/g, '$1');
      this.i = end;
    } else value = this.ident();
    if (value === undefined) return undefined;
    this.ws();
    let caseless = false;
    const flag = this.s[this.i]?.toLowerCase();
    if (flag === 'i' || flag === 's') {
      caseless = flag === 'i';
      this.i += 1;
      this.ws();
    }
    if (this.s[this.i] !== ']') return undefined;
    this.i += 1;
    return { name, op, value, caseless };
  }

  private compound(): Compound | undefined {
    let tag: string | undefined;
    let any = false;
    const ids: string[] = [];
    const classes: string[] = [];
    const attributes: AttributeTest[] = [];
    if (this.s[this.i] === '*') {
      this.i += 1;
      any = true;
    } else if (this.s[this.i] !== '.' && this.s[this.i] !== '#' && this.s[this.i] !== '[') {
      tag = this.ident()?.toLowerCase();
      if (tag === undefined) return undefined;
    }
    for (;;) {
      const c = this.s[this.i];
      if (c === '.' || c === '#') {
        this.i += 1;
        const name = this.ident();
        if (name === undefined) return undefined;
        (c === '.' ? classes : ids).push(name);
      } else if (c === '[') {
        const test = this.attribute();
        if (test === undefined) return undefined;
        attributes.push(test);
      } else break;
    }
    if (tag === undefined && !any && ids.length + classes.length + attributes.length === 0) return undefined;
    return { ...(tag === undefined ? {} : { tag }), ids, classes, attributes };
  }

  /** The whole text as one complex selector, or undefined if it is not one this reader takes. */
  complex(): Selector | undefined {
    const compounds: Compound[] = [];
    const combinators: Combinator[] = [];
    this.ws();
    for (;;) {
      if (compounds.length >= MAX_SELECTOR_COMPOUNDS) return undefined;
      const c = this.compound();
      if (c === undefined) return undefined;
      compounds.push(c);
      const spaced = this.ws();
      if (this.i >= this.s.length) break;
      const next = this.s[this.i];
      if (next === '>' || next === '+' || next === '~') {
        this.i += 1;
        this.ws();
        combinators.push(next);
      } else if (spaced && !/[|:,]/.test(next ?? '')) combinators.push(' ');
      else return undefined;
    }
    let a = 0;
    let b = 0;
    let t = 0;
    for (const c of compounds) {
      a += c.ids.length;
      b += c.classes.length + c.attributes.length;
      if (c.tag !== undefined) t += 1;
    }
    return { compounds, combinators, specificity: Math.min(a, 999) * 1e6 + Math.min(b, 999) * 1e3 + Math.min(t, 999) };
  }
}

/** Splits a selector list at its top-level commas (not inside brackets, parentheses or strings). */
function splitSelectorList(prelude: string): string[] {
  const out: string[] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < prelude.length; ) {
    const c = prelude[i];
    if (c === '"' || c === "'") {
      i = skipString(prelude, i, prelude.length);
      continue;
    }
    if (c === '\\') i += 1;
    else if (c === '(' || c === '[') depth += 1;
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(prelude.slice(start, i));
      start = i + 1;
    }
    i += 1;
  }
  out.push(prelude.slice(start));
  return out;
}

interface Rule {
  readonly selector: Selector;
  readonly declarations: readonly Declaration[];
  readonly order: number;
  /** Inside @media and the like: may apply or not, so it can only show an element again. */
  readonly conditional: boolean;
  /** The cascade layer it is in (its place in the order of layers), if any. */
  readonly layer?: number;
}

/** A declaration's place in the cascade, compared in order: level (importance, inline), specificity, order. */
interface Rank {
  readonly level: number;
  readonly specificity: number;
  readonly order: number;
}

const MAX_LAYERS = 100_000;

/**
 * A style sheet declaration's level in the cascade, before specificity: normal declarations in layers
 * below those outside layers (a later layer above an earlier one), !important ones the other way
 * round; inline style is 1 (normal) and 3 (!important).
 */
function level(important: boolean, layer: number | undefined): number {
  if (layer === undefined) return important ? 2 : 0;
  const at = Math.min(layer, MAX_LAYERS - 1);
  return important ? 2 + (MAX_LAYERS - at) / (MAX_LAYERS + 1) : -1 + (at + 1) / (MAX_LAYERS + 1);
}

function outranks(x: Rank, y: Rank): boolean {
  if (x.level !== y.level) return x.level > y.level;
  if (x.specificity !== y.specificity) return x.specificity > y.specificity;
  return x.order > y.order;
}

interface Candidate extends Rank {
  readonly value: string;
  readonly sheet: boolean;
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function isElement(node: Node | null | undefined): node is Element {
  return node !== null && node !== undefined && 'tagName' in node;
}

/** The style sheets of one parsed page, and each element's visibility under them (cached). */
export class PageStyles {
  /** Whether <style> text past MAX_STYLESHEET_CHARS was left unread. */
  truncated = false;
  /** Whether matching stopped at MAX_MATCH_STEPS (rules left unapplied from then on). */
  exhausted = false;
  /** Style sheets the page links (<link rel=stylesheet href>, @import): never fetched, so never applied. */
  external = 0;
  private readonly byId = new Map<string, Rule[]>();
  private readonly byClass = new Map<string, Rule[]>();
  private readonly byTag = new Map<string, Rule[]>();
  private readonly universal: Rule[] = [];
  private rules = 0;
  private steps = 0;
  private readonly cache = new Map<Element, Visibility>();
  private readonly classCache = new Map<Element, ReadonlySet<string>>();
  private readonly previous = new Map<Element, Element | undefined>();
  private readonly layers = new Map<string, number>();
  private readonly quirks: boolean;

  constructor(doc: Node) {
    // In quirks mode (no doctype) class and id selectors match regardless of case.
    this.quirks = 'mode' in doc && doc.mode === 'quirks';
    let budget = MAX_STYLESHEET_CHARS;
    const stack: Node[] = [doc];
    const sheets: { css: string; conditional: boolean }[] = [];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (isElement(node)) {
        // With scripting on, as in a browser, <noscript> holds text, not a style sheet.
        if (node.tagName === 'noscript') continue;
        if (node.tagName === 'link' && attr(node, 'href') !== undefined) {
          const rel = (attr(node, 'rel') ?? '').toLowerCase().split(/[ \t\n\r\f]+/);
          // An alternate style sheet is not applied until the reader picks it.
          if (rel.includes('stylesheet') && !rel.includes('alternate')) this.external += 1;
        }
        if (node.tagName === 'style') {
          const type = attr(node, 'type')?.trim().toLowerCase();
          if (type !== undefined && type !== '' && type !== 'text/css') continue;
          const media = attr(node, 'media');
          let css = node.childNodes.map((c) => ('value' in c ? c.value : '')).join('');
          if (css.length > budget) {
            this.truncated = true;
            css = css.slice(0, budget);
          }
          budget -= css.length;
          sheets.push({ css, conditional: media !== undefined && !mediaAlwaysHolds(media) });
          continue;
        }
      }
      const kids = 'childNodes' in node ? node.childNodes : [];
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i];
        if (kid !== undefined) stack.push(kid);
      }
    }
    for (const sheet of sheets) {
      const css = sheet.css.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ');
      this.readRules(css, 0, css.length, sheet.conditional, 0);
    }
  }

  /** Whether any rule was read (a page without one costs nothing more). */
  get empty(): boolean {
    return this.rules === 0;
  }

  /** The place of a cascade layer (`@layer name`), in the order its name first appears. */
  private layerIndex(name: string): number {
    let index = this.layers.get(name);
    if (index === undefined) {
      index = this.layers.size;
      this.layers.set(name, index);
    }
    return index;
  }

  /**
   * Reads the rules between `from` and `end`. `layer`: the cascade layer they are in, if any (only
   * one level: a layer nested in a layer counts as conditional, its order against its parent's own
   * rules not being kept).
   */
  private readRules(css: string, from: number, end: number, conditional: boolean, depth: number, layer?: number): void {
    let i = from;
    while (i < end) {
      while (i < end && /[\s;]/.test(css[i] ?? '')) i += 1;
      if (css.startsWith('<!--', i)) {
        i += 4;
        continue;
      }
      if (css.startsWith('-->', i)) {
        i += 3;
        continue;
      }
      if (i >= end) return;
      // The prelude runs to the `{` of a block, or (an at-rule without one) to `;`.
      let j = i;
      while (j < end && css[j] !== '{' && !(css[j] === ';' && css[i] === '@')) {
        if (css[j] === '"' || css[j] === "'") j = skipString(css, j, end);
        else j += css[j] === '\\' ? 2 : 1;
      }
      if (j >= end) return;
      if (css[j] === ';') {
        // `@layer a, b;` fixes the order of layers before their rules come.
        const statement = css.slice(i, j).trim();
        if (/^@import\b/i.test(statement)) this.external += 1;
        const names = /^@layer\s+([^{]*)$/i.exec(statement)?.[1];
        if (names !== undefined && layer === undefined) for (const n of names.split(',')) this.layerIndex(n.trim());
        i = j + 1;
        continue;
      }
      const close = blockEnd(css, j, end);
      const prelude = css.slice(i, j).trim();
      if (prelude.startsWith('@')) {
        const name = /^@([-A-Za-z]+)/.exec(prelude)?.[1]?.toLowerCase() ?? '';
        if (GROUPING_AT_RULES.has(name) && depth < MAX_AT_RULE_DEPTH) {
          if (name === 'layer' && layer === undefined) {
            // Rules in a layer apply, below the rules outside layers; level() ranks them.
            const layerName = prelude.slice(6).trim();
            const index = layerName === '' ? this.layerIndex(`\u0000anonymous${this.layers.size}`) : layerName.includes(',') ? undefined : this.layerIndex(layerName);
            if (index !== undefined) this.readRules(css, j + 1, close, conditional, depth + 1, index);
          } else {
            const always = name === 'media' && mediaAlwaysHolds(prelude.slice(6));
            this.readRules(css, j + 1, close, conditional || !always, depth + 1, layer);
          }
        }
      } else this.addRule(prelude, css.slice(j + 1, close), conditional, layer);
      i = close + 1;
    }
  }

  private addRule(prelude: string, block: string, conditional: boolean, layer: number | undefined): void {
    const declarations = parseDeclarations(block);
    if (declarations.length === 0) return;
    for (const text of splitSelectorList(prelude)) {
      const selector = new SelectorParser(text.trim()).complex();
      if (selector === undefined) continue;
      const rule: Rule = { selector, declarations, order: this.rules++, conditional, ...(layer === undefined ? {} : { layer }) };
      const key = selector.compounds[selector.compounds.length - 1];
      const id = key?.ids[0];
      const cls = key?.classes[0];
      if (id !== undefined) this.push(this.byId, this.quirks ? id.toLowerCase() : id, rule);
      else if (cls !== undefined) this.push(this.byClass, this.quirks ? cls.toLowerCase() : cls, rule);
      else if (key?.tag !== undefined) this.push(this.byTag, key.tag, rule);
      else this.universal.push(rule);
    }
  }

  private push(map: Map<string, Rule[]>, key: string, rule: Rule): void {
    const list = map.get(key);
    if (list === undefined) map.set(key, [rule]);
    else list.push(rule);
  }

  private classes(el: Element): ReadonlySet<string> {
    let set = this.classCache.get(el);
    if (set === undefined) {
      const value = attr(el, 'class') ?? '';
      set = new Set((this.quirks ? value.toLowerCase() : value).split(/[ \t\n\r\f]+/).filter((c) => c !== ''));
      this.classCache.set(el, set);
    }
    return set;
  }

  private matchesCompound(el: Element, c: Compound): boolean {
    this.steps += 1;
    if (c.tag !== undefined && el.tagName.toLowerCase() !== c.tag) return false;
    if (c.ids.length > 0) {
      const id = attr(el, 'id');
      if (id === undefined) return false;
      for (const want of c.ids) if ((this.quirks ? want.toLowerCase() : want) !== (this.quirks ? id.toLowerCase() : id)) return false;
    }
    if (c.classes.length > 0) {
      const have = this.classes(el);
      for (const want of c.classes) if (!have.has(this.quirks ? want.toLowerCase() : want)) return false;
    }
    for (const test of c.attributes) {
      const found = el.attrs.find((a) => a.name.toLowerCase() === test.name);
      if (found === undefined) return false;
      if (test.op === undefined) continue;
      const v = test.caseless ? found.value.toLowerCase() : found.value;
      const w = test.caseless ? test.value.toLowerCase() : test.value;
      const ok =
        test.op === '=' ? v === w
        : test.op === '~=' ? w !== '' && !/\s/.test(w) && v.split(/[ \t\n\r\f]+/).includes(w)
        : test.op === '|=' ? v === w || v.startsWith(`${w}-`)
        : test.op === '^=' ? w !== '' && v.startsWith(w)
        : test.op === '$=' ? w !== '' && v.endsWith(w)
        : w !== '' && v.includes(w);
      if (!ok) return false;
    }
    return true;
  }

  /** The element before `el` among its parent's children (found for all of them at once: a parent may have 100,000). */
  private previousElement(el: Element): Element | undefined {
    if (!this.previous.has(el)) {
      let before: Element | undefined;
      for (const kid of el.parentNode?.childNodes ?? []) {
        if (!isElement(kid)) continue;
        this.previous.set(kid, before);
        before = kid;
      }
      if (!this.previous.has(el)) this.previous.set(el, undefined);
    }
    return this.previous.get(el);
  }

  /** Whether `el` matches compounds[0..at] of `s`, compounds[at] tested on `el` itself. */
  private matchesFrom(s: Selector, at: number, el: Element): boolean {
    if (this.steps > MAX_MATCH_STEPS) {
      this.exhausted = true;
      return false;
    }
    const c = s.compounds[at];
    if (c === undefined || !this.matchesCompound(el, c)) return false;
    if (at === 0) return true;
    const combinator = s.combinators[at - 1];
    if (combinator === '>') {
      const parent = el.parentNode;
      return isElement(parent) && this.matchesFrom(s, at - 1, parent);
    }
    if (combinator === '+') {
      const before = this.previousElement(el);
      return before !== undefined && this.matchesFrom(s, at - 1, before);
    }
    if (combinator === '~') {
      for (let p = this.previousElement(el); p !== undefined; p = this.previousElement(p)) {
        if (this.matchesFrom(s, at - 1, p)) return true;
        if (this.exhausted) return false;
      }
      return false;
    }
    for (let p = el.parentNode; isElement(p); p = p.parentNode) {
      if (this.matchesFrom(s, at - 1, p)) return true;
      if (this.exhausted) return false;
    }
    return false;
  }

  /** What `el`'s style attribute and the page's style sheets say about showing it. */
  visibility(el: Element): Visibility {
    const cached = this.cache.get(el);
    if (cached !== undefined) return cached;
    const base: Partial<Record<Property, Candidate>> = {};
    const shows: Partial<Record<Property, Candidate>> = {};
    // Called once per matching declaration (a million times on a hostile page): plain arguments, and
    // an object only for a declaration that wins.
    const consider = (d: Declaration, level: number, specificity: number, order: number, sheet: boolean, conditional: boolean): void => {
      const rank: Rank = { level, specificity, order };
      if (conditional) {
        // A rule that may or may not apply can only show the element again, never hide it.
        const best = shows[d.property];
        if (!hides(d.property, d.value) && (best === undefined || outranks(rank, best))) shows[d.property] = { level, specificity, order, value: d.value, sheet };
        return;
      }
      const best = base[d.property];
      if (best === undefined || outranks(rank, best)) base[d.property] = { level, specificity, order, value: d.value, sheet };
    };
    if (!this.empty && !this.exhausted) {
      const lists: (readonly Rule[] | undefined)[] = [this.universal, this.byTag.get(el.tagName.toLowerCase())];
      const id = attr(el, 'id');
      if (id !== undefined) lists.push(this.byId.get(this.quirks ? id.toLowerCase() : id));
      for (const c of this.classes(el)) lists.push(this.byClass.get(c));
      for (const list of lists) {
        for (const rule of list ?? []) {
          if (!this.matchesFrom(rule.selector, rule.selector.compounds.length - 1, el)) continue;
          for (const d of rule.declarations) {
            consider(d, level(d.important, rule.layer), rule.selector.specificity, rule.order, true, rule.conditional);
          }
        }
      }
    }
    const style = attr(el, 'style');
    if (style !== undefined) {
      for (const [k, d] of parseDeclarations(style).entries()) consider(d, d.important ? 3 : 1, 0, k, false, false);
    }
    let bySheet = false;
    const out: { -readonly [K in keyof Visibility]: Visibility[K] } = { bySheet };
    for (const property of ['display', 'visibility', 'contentVisibility'] as const) {
      let win = base[property];
      const show = shows[property];
      if (show !== undefined && (win === undefined || (hides(property, win.value) && outranks(show, win)))) win = show;
      if (win === undefined) continue;
      out[property] = win.value;
      if (win.sheet && hides(property, win.value)) bySheet = true;
    }
    out.bySheet = bySheet;
    this.cache.set(el, out);
    return out;
  }
}
