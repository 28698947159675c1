// What a page's own style sheets say about showing an element: a small, conservative reader of the
// CSS in its <style> elements and style attributes, for the properties that hide text, so that a
// report cannot hide planted indicators behind `.h{display:none}` where the reader only looked at
// inline styles.
//
// Conservative means: where a condition is unsure, the text stays visible (and is read). Only rules
// at the top level of a style sheet (or of a cascade layer, @layer, or of an @media or @supports
// whose condition always holds, css-media.ts) hide anything, and style rules nested in them (CSS
// nesting: `.w { & .a {…} }` is `:is(.w) .a`). Rules inside other @media, @supports,
// @container and the like may apply or not, so they can only show an element again (a mobile-first
// page hides a column, then shows it on wide screens); other at-rules are skipped. Selectors are
// css-selector.ts's: where it cannot decide whether one matches (:has(a b), :dir()), the rule may
// hide text but not show it, the other way round (a selector the reader does not follow must not
// smuggle a value past it; the warning names the text). A pseudo-element's rule is left out (it
// styles generated content), and so is a selector a browser does not take, the rest of the list
// still applying.
//
// The properties are css-properties.ts's (all that can hide text: display, visibility, opacity,
// font-size, colours, position, clip, …); css-hiding.ts decides from them. <font color> and bgcolor
// are presentational hints below every rule. Values are checked: an invalid one is dropped, as a
// browser drops it. Custom properties are cascaded and inherited, and var() resolved on each element
// (css-custom-properties.ts, @property included); a custom property that a rule under a condition or
// with an undecided selector may set leaves the value using it unjudged (it counts as showing). The
// cascade: !important, then inline style over a style sheet, then specificity, then the later rule.
// Nothing is fetched (<link rel=stylesheet>, @import: `external` counts them for a warning).
//
// Hostile CSS is bounded: MAX_STYLESHEET_CHARS of it is read, selectors are bounded in length and
// nesting (css-selector.ts), at-rules and nested rules are followed MAX_AT_RULE_DEPTH deep, and
// matching stops after MAX_MATCH_STEPS compound tests (custom property declarations, var()
// resolution and the selectors nested rules make counted with them); the caller is told
// (`truncated`, `exhausted`) so that the analyst can be.
import type { DefaultTreeAdapterMap } from 'parse5';
import { mediaAlwaysHolds, mediaNeverHolds, supportsAlwaysHolds } from './css-media.ts';
import { expand, GLOBAL, mayHide as hides, MENTIONS_PROPERTY, SHORTHANDS, valid } from './css-properties.ts';
import type { Property } from './css-properties.ts';
import { newBudget, parseAtProperty, substitute, usesVar } from './css-custom-properties.ts';
import type { Registration } from './css-custom-properties.ts';
import { MAYBE, NO, parseSelector, SelectorMatcher, skipString, splitSelectorList } from './css-selector.ts';
import type { Selector } from './css-selector.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Characters of <style> text read per page (256 KiB); rules past it are not applied. */
export const MAX_STYLESHEET_CHARS = 256 * 1024;
/** Compound-selector tests while matching one page; past it no rule matches (and the caller warns). */
const MAX_MATCH_STEPS = 1_000_000;
/** Characters of the selectors nested rules make (their parent's list in each) that cost one step of that budget. */
const NESTED_CHARS_PER_STEP = 16;
/** Characters scanned in resolving var() that cost one step of that budget (an ordinary value costs one). */
const SCANNED_CHARS_PER_STEP = 64;
const MAX_AT_RULE_DEPTH = 4;
/** Distinct style attributes whose declarations are kept, parsed, for the next element with the same. */
const MAX_INLINE_REMEMBERED = 4096;
// At-rules whose blocks hold style rules that apply under some condition (or in a layer).
const GROUPING_AT_RULES = new Set(['media', 'supports', 'container', 'layer', 'scope', 'document', '-moz-document', 'starting-style']);

/** What an element's styles say about showing it: the winning value of each property, lower-cased. */
export type Visibility = Readonly<Partial<Record<Property, string>>> & {
  /** Whether a winning value that hides came from a style sheet (rather than the style attribute). */
  readonly bySheet: boolean;
  /** Whether one came from a rule that may or may not match (a selector not decided here, css-selector.ts). */
  readonly byGuess: boolean;
};

type CustomName = `--${string}`;

interface Declaration {
  /** A property of css-properties.ts, or a custom property (`--name`). */
  readonly property: Property | CustomName;
  readonly value: string;
  readonly important: boolean;
  /** The shorthand it came from, for a value with var() (expanded once the var() is resolved). */
  readonly shorthand?: string;
}

function isCustom(property: Property | CustomName): property is CustomName {
  return property.startsWith('--');
}

// A CSS escape: up to six hex digits and one white space after them, or any other character.
const ESCAPE = /\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?|([^\n\r\f]))/g;

/** `text` with its CSS escapes read (`displ\61y` is `display`, `\none` is `none`), as a browser reads a name or a keyword. */
function unescape(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(ESCAPE, (_, hex: string | undefined, other: string | undefined) => {
    if (hex === undefined) return other ?? '';
    const code = Number.parseInt(hex, 16);
    return code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? '\ufffd' : String.fromCodePoint(code);
  });
}

/** The declarations of a style attribute or rule block that set a property of css-properties.ts, valid ones only, in order. */
function parseDeclarations(text: string): Declaration[] {
  const out: Declaration[] = [];
  // A style attribute may hold comments too (a style sheet's are removed before its rules are read):
  // `display:/**/none` hides.
  const block = text.includes('/*') ? text.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ') : text;
  // An escaped name is only known once its escapes are read (`displ\61y:none` hides).
  if (!MENTIONS_PROPERTY.test(block) && !block.includes('\\')) return out;
  // Nested rules (CSS nesting) apply to other elements: addNested reads them.
  for (const piece of splitBlock(block).declarations) {
    const colon = piece.indexOf(':');
    if (colon < 0) continue;
    const name = unescape(piece.slice(0, colon)).trim().toLowerCase();
    let value = unescape(piece.slice(colon + 1)).trim().toLowerCase();
    const important = /!\s*important$/.test(value);
    if (important) value = value.replace(/!\s*important$/, '').trim();
    value = value.replace(/\s+/g, ' ');
    if (name.startsWith('--')) {
      out.push({ property: name as CustomName, value, important });
      continue;
    }
    for (const [property, v] of expand(name, value)) {
      // A value with var() is valid when the rule is parsed; it is resolved for each element (visibility()).
      if (usesVar(v)) out.push({ property, value: v, important, ...(SHORTHANDS.has(name) ? { shorthand: name } : {}) });
      else if (valid(property, v)) out.push({ property, value: v, important });
    }
  }
  return out;
}

// Elements whose presentational attributes set a colour: <font color>, <body text>, bgcolor.
const HINTED = new Set(['font', 'body', 'table', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot']);

/** The colours `el`'s presentational attributes set, as declarations (a bare hex colour as HTML reads it). */
function presentationalHints(el: Element): Declaration[] {
  const out: Declaration[] = [];
  for (const a of el.attrs) {
    const property = a.name === 'bgcolor' ? 'background' : a.name === 'color' && el.tagName === 'font' ? 'color' : a.name === 'text' && el.tagName === 'body' ? 'color' : undefined;
    if (property === undefined) continue;
    let value = a.value.trim().toLowerCase();
    if (/^[0-9a-f]{6}$/.test(value)) value = `#${value}`;
    if (valid(property, value) && !GLOBAL.includes(value)) out.push({ property, value, important: false });
  }
  return out;
}

// Colours hide text only against one another: a winning colour does not say that a style sheet hid it.
const COLOURS: ReadonlySet<Property> = new Set(['color', 'textFill', 'background']);

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

/**
 * A rule block read at its top level, strings and parentheses respected: its declarations, split at
 * `;`, and its nested rules (CSS nesting), each as its prelude (the text since the last `;` or block)
 * and its block. One scan for both, so the two can never disagree on where a nested rule starts: its
 * prelude is never read as a declaration, and what follows its block is.
 */
function splitBlock(block: string): { readonly declarations: string[]; readonly nested: [prelude: string, body: string][] } {
  const declarations: string[] = [];
  const nested: [string, string][] = [];
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
      declarations.push(block.slice(start, i));
      start = i + 1;
    } else if (c === '{') {
      const close = blockEnd(block, i, block.length);
      nested.push([block.slice(start, i).trim(), block.slice(i + 1, close)]);
      i = close + 1;
      start = i;
      continue;
    }
    i += 1;
  }
  declarations.push(block.slice(start));
  return { declarations, nested };
}

interface Rule {
  readonly selector: Selector;
  readonly declarations: readonly Declaration[];
  readonly order: number;
  /** Inside @media and the like: may apply or not, so it can only show an element again. */
  readonly conditional: boolean;
  /** The cascade layer it is in (its place in the order of layers), if any. */
  readonly layer?: number;
  /** How many of its declarations set custom properties (each costs a step of the matching budget). */
  readonly customs: number;
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

// Where a declaration comes from: the style attribute, a style sheet rule, or a rule that may match.
const INLINE = 0;
const SHEET = 1;
const GUESSED = 2;
type Source = typeof INLINE | typeof SHEET | typeof GUESSED;

interface Candidate extends Rank {
  readonly value: string;
  readonly source: Source;
  readonly shorthand: string | undefined;
}

/** What a custom property is on an element: its value (undefined: not set), and whether a rule that may not apply could set it otherwise. */
interface CustomValue {
  readonly value: string | undefined;
  readonly unsure: boolean;
}

const NOT_SET: CustomValue = { value: undefined, unsure: false };
const UNSURE: CustomValue = { value: undefined, unsure: true };

/**
 * An element's custom properties: the ones it sets itself, over its parent's. A chain, not a copy
 * (a page nests 512 deep, each level may add names); each name is looked up once per element.
 */
class Customs {
  private readonly memo = new Map<string, CustomValue>();
  constructor(
    private readonly parent: Customs | undefined,
    /** Its own values; null where it sets one back to its initial value. */
    private readonly own: ReadonlyMap<string, string | null> | undefined,
    private readonly unsure: ReadonlySet<string> | undefined,
    private readonly registered: ReadonlyMap<string, Registration>,
  ) {}

  lookup(name: string): CustomValue {
    let found = this.memo.get(name);
    if (found === undefined) {
      const own = this.own?.get(name);
      if (this.unsure?.has(name) === true) found = UNSURE;
      else if (own !== undefined) found = own === null ? NOT_SET : { value: own, unsure: false };
      // A registered property that does not inherit starts from its initial value on every element.
      else if (this.registered.get(name)?.inherits === false || this.parent === undefined) found = NOT_SET;
      else found = this.parent.lookup(name);
      this.memo.set(name, found);
    }
    return found;
  }
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
  /** Style sheets the page links (<link rel=stylesheet href>, @import): never fetched, so never applied. */
  external = 0;
  private readonly byId = new Map<string, Rule[]>();
  private readonly byClass = new Map<string, Rule[]>();
  private readonly byTag = new Map<string, Rule[]>();
  private readonly universal: Rule[] = [];
  private rules = 0;
  private readonly cache = new Map<Element, Visibility>();
  private readonly inline = new Map<string, readonly Declaration[]>();
  /** Custom properties registered with @property. */
  private readonly registered = new Map<string, Registration>();
  /**
   * Whether a custom property registered with @property does not inherit: worked out once, when the
   * style sheets have been read (looked at for every element, and a sheet registers thousands).
   */
  private uninherited = false;
  /** Each element's custom properties (after inheritance), once worked out. */
  private readonly customCache = new Map<Element, Customs>();
  private readonly layers = new Map<string, number>();
  private readonly quirks: boolean;
  private readonly matcher: SelectorMatcher;

  constructor(doc: Node) {
    // In quirks mode (no doctype) class and id selectors match regardless of case.
    this.quirks = 'mode' in doc && doc.mode === 'quirks';
    this.matcher = new SelectorMatcher(this.quirks, MAX_MATCH_STEPS);
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
          // A style sheet for print (or speech) applies on no screen: not read.
          if (media !== undefined && mediaNeverHolds(media)) continue;
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
    for (const r of this.registered.values()) if (!r.inherits) this.uninherited = true;
  }

  /** Whether matching stopped at MAX_MATCH_STEPS (rules left unapplied from then on). */
  get exhausted(): boolean {
    return this.matcher.exhausted;
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
        const registration = name === 'property' ? parseAtProperty(prelude, css.slice(j + 1, close)) : undefined;
        if (registration !== undefined) this.registered.set(...registration);
        // Rules for print or speech apply on no screen: they must not show hidden text again.
        const nowhere = name === 'media' && mediaNeverHolds(prelude.slice(6));
        if (GROUPING_AT_RULES.has(name) && depth < MAX_AT_RULE_DEPTH && !nowhere) {
          if (name === 'layer' && layer === undefined) {
            // Rules in a layer apply, below the rules outside layers; level() ranks them.
            const layerName = prelude.slice(6).trim();
            const index = layerName === '' ? this.layerIndex(`\u0000anonymous${this.layers.size}`) : layerName.includes(',') ? undefined : this.layerIndex(layerName);
            if (index !== undefined) this.readRules(css, j + 1, close, conditional, depth + 1, index);
          } else {
            const always = (name === 'media' && mediaAlwaysHolds(prelude.slice(6))) || (name === 'supports' && supportsAlwaysHolds(prelude.slice(9)));
            this.readRules(css, j + 1, close, conditional || !always, depth + 1, layer);
          }
        }
      } else this.addRule(prelude, css.slice(j + 1, close), conditional, layer);
      i = close + 1;
    }
  }

  private addRule(prelude: string, block: string, conditional: boolean, layer: number | undefined, nesting = 0): void {
    // A nested rule comes after its parent's declarations, in the order of the sheet.
    if (block.includes('{') && nesting < MAX_AT_RULE_DEPTH) this.addNested(prelude, block, conditional, layer, nesting + 1);
    else this.addOwn(prelude, block, conditional, layer);
  }

  /**
   * The rule's own declarations, then its nested style rules (CSS nesting) with their selectors made
   * whole: `&` is the parent's list as :is(), and a selector without one is relative to it (a browser
   * reads `.w { > .a {…} }` as `:is(.w) > .a`). Nested at-rules are not read (their text is read).
   */
  private addNested(prelude: string, block: string, conditional: boolean, layer: number | undefined, nesting: number): void {
    const parent = `:is(${prelude})`;
    const { nested } = splitBlock(block);
    this.addOwn(prelude, block, conditional, layer);
    for (const [inner, body] of nested) {
      if (inner === '' || inner.startsWith('@')) continue;
      const whole: string[] = [];
      for (const s of splitSelectorList(inner)) {
        // A parent list of thousands in each of thousands of nested selectors: counted, and stopped at the budget.
        if (this.matcher.exhausted) return;
        const text = s.includes('&') ? s.replaceAll('&', parent) : `${parent} ${s.trim()}`;
        this.matcher.charge(Math.ceil(text.length / NESTED_CHARS_PER_STEP));
        whole.push(text);
      }
      this.addRule(whole.join(', '), body, conditional, layer, nesting);
    }
  }

  private addOwn(prelude: string, block: string, conditional: boolean, layer: number | undefined): void {
    const declarations = parseDeclarations(block);
    if (declarations.length === 0) return;
    const customs = declarations.filter((d) => isCustom(d.property)).length;
    for (const text of splitSelectorList(prelude)) {
      const selector = parseSelector(text);
      // A pseudo-element's rule styles generated content or a part of the element, not the element.
      if (selector === undefined || selector === 'pseudo-element') continue;
      const rule: Rule = { selector, declarations, order: this.rules++, conditional, customs, ...(layer === undefined ? {} : { layer }) };
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

  /** What `el`'s style attribute and the page's style sheets say about showing it. */
  visibility(el: Element): Visibility {
    const cached = this.cache.get(el);
    if (cached !== undefined) return cached;
    const base: Partial<Record<string, Candidate>> = {};
    const shows: Partial<Record<string, Candidate>> = {};
    // Custom properties that a rule under a condition, or one that may not match, sets here.
    let unsure: Set<string> | undefined;
    // Called once per matching declaration (a million times on a hostile page): plain arguments, and
    // an object only for a declaration that wins.
    const consider = (d: Declaration, level: number, specificity: number, order: number, source: Source, conditional: boolean): void => {
      const rank: Rank = { level, specificity, order };
      const shorthand = d.shorthand;
      if (conditional) {
        // A rule that may or may not apply can only show the element again, never hide it; what it
        // does through a custom property is not known until the property is used.
        if (isCustom(d.property)) {
          (unsure ??= new Set()).add(d.property);
          return;
        }
        const best = shows[d.property];
        if (!hides(d.property, d.value) && (best === undefined || outranks(rank, best))) shows[d.property] = { level, specificity, order, value: d.value, source, shorthand };
        return;
      }
      const best = base[d.property];
      if (best === undefined || outranks(rank, best)) base[d.property] = { level, specificity, order, value: d.value, source, shorthand };
    };
    // Old presentational attributes (<font color>, bgcolor) are author styles below every rule.
    if (HINTED.has(el.tagName)) for (const [k, d] of presentationalHints(el).entries()) consider(d, -2, 0, k, SHEET, false);
    if (!this.empty && !this.exhausted) {
      const lists: (readonly Rule[] | undefined)[] = [this.universal, this.byTag.get(el.tagName.toLowerCase())];
      const id = attr(el, 'id');
      if (id !== undefined) lists.push(this.byId.get(this.quirks ? id.toLowerCase() : id));
      for (const c of this.matcher.classes(el)) lists.push(this.byClass.get(c));
      for (const list of lists) {
        for (const rule of list ?? []) {
          const match = this.matcher.matches(rule.selector, el);
          if (match === NO) continue;
          // A rule of a thousand custom properties on every element would cost as much as matching.
          if (rule.customs > 0) this.matcher.charge(rule.customs);
          // Within a rule the later declaration wins: its place is the rule's and then its own (a
          // fraction, below the next rule's), so that .a{display:block;display:none} hides.
          const step = 1 / (rule.declarations.length + 1);
          for (const [k, d] of rule.declarations.entries()) {
            // A rule that may match (a selector not decided here, css-selector.ts) can only hide: a
            // planted value must not get through a selector this reader does not follow.
            if (match === MAYBE && isCustom(d.property)) (unsure ??= new Set()).add(d.property);
            if (match === MAYBE && (rule.conditional || isCustom(d.property) || !hides(d.property, d.value))) continue;
            consider(d, level(d.important, rule.layer), rule.selector.specificity, rule.order + k * step, match === MAYBE ? GUESSED : SHEET, rule.conditional);
          }
        }
      }
    }
    const style = attr(el, 'style');
    if (style !== undefined) {
      // A page repeats the same style attribute on thousands of elements: parsed once.
      let declarations = this.inline.get(style);
      if (declarations === undefined) {
        declarations = parseDeclarations(style);
        if (this.inline.size >= MAX_INLINE_REMEMBERED) this.inline.clear();
        this.inline.set(style, declarations);
      }
      for (const [k, d] of declarations.entries()) consider(d, d.important ? 3 : 1, 0, k, INLINE, false);
    }
    const customs = this.ownCustoms(el, base, unsure);
    let bySheet = false;
    let byGuess = false;
    const out: { -readonly [K in keyof Visibility]: Visibility[K] } = { bySheet, byGuess };
    for (const key in shows) if (!(key in base)) base[key] = undefined;
    for (const key in base) {
      if (isCustom(key as Property | CustomName)) continue;
      const property = key as Property;
      let win = base[property];
      const show = shows[property];
      if (show !== undefined && (win === undefined || (hides(property, win.value) && outranks(show, win)))) win = show;
      if (win === undefined) continue;
      const value = usesVar(win.value) ? this.resolve(property, win, customs) : win.value;
      out[property] = value;
      if (COLOURS.has(property) || !hides(property, value)) continue;
      if (win.source !== INLINE) bySheet = true;
      if (win.source === GUESSED) byGuess = true;
    }
    out.bySheet = bySheet;
    out.byGuess = byGuess;
    this.cache.set(el, out);
    return out;
  }

  /**
   * A value with var() resolved with `customs` (the element's custom properties): the value, `unset`
   * if it is invalid once resolved, or `var()` where a custom property it uses may be set otherwise by
   * a rule that may not apply (it then counts as showing the element, as a value not judged).
   */
  private resolve(property: Property, win: Candidate, customs: Customs | undefined): string {
    let unsure = false;
    const budget = newBudget();
    const resolved = substitute(
      win.value,
      (name) => {
        const found = customs?.lookup(name);
        if (found?.unsure === true) unsure = true;
        return found?.value ?? this.registered.get(name)?.initial;
      },
      [],
      budget,
    );
    // Resolved on every element the value applies to: a value costly to resolve counts as matching
    // does, so that a page of them ends with the 'too costly' warning, not minutes of work.
    this.matcher.charge(Math.ceil(budget.scanned / SCANNED_CHARS_PER_STEP));
    if (unsure) return 'var()';
    if (resolved === undefined) return 'unset';
    const value = win.shorthand === undefined ? resolved : expand(win.shorthand, resolved).find(([p]) => p === property)?.[1];
    return value !== undefined && (valid(property, value) || GLOBAL.includes(value)) ? value : 'unset';
  }

  /** `el`'s custom properties: its own winning declarations over what it inherits from its parent. */
  private ownCustoms(el: Element, base: Partial<Record<string, Candidate>>, unsure: ReadonlySet<string> | undefined): Customs | undefined {
    let own: Map<string, string | null> | undefined;
    for (const key in base) {
      const win = base[key];
      if (win === undefined || !key.startsWith('--')) continue;
      const v = win.value;
      if (v === 'inherit' || (v === 'unset' && this.registered.get(key)?.inherits !== false)) continue;
      (own ??= new Map()).set(key, v === 'initial' || v === 'unset' ? null : v);
    }
    if (this.customCache.size === 0 && own === undefined && unsure === undefined) return undefined;
    const parent = isElement(el.parentNode) ? this.customsOf(el.parentNode) : undefined;
    // Shared with the parent when it sets nothing, unless a registered property does not inherit.
    const share = own === undefined && unsure === undefined && parent !== undefined && !this.uninherited;
    const out = share ? parent : new Customs(parent, own, unsure, this.registered);
    this.customCache.set(el, out);
    return out;
  }

  /** The custom properties of `el` (its styles worked out first if they were not). */
  private customsOf(el: Element): Customs | undefined {
    if (this.customCache.size === 0) return undefined;
    const known = this.customCache.get(el);
    if (known !== undefined) return known;
    // From the nearest ancestor worked out, down (iteratively: a page nests deep). An element worked
    // out before any custom property was seen sets none: it passes on its parent's.
    const chain: Element[] = [];
    for (let e: Element | undefined = el; e !== undefined && !this.customCache.has(e); e = isElement(e.parentNode) ? e.parentNode : undefined) chain.push(e);
    for (let k = chain.length - 1; k >= 0; k--) {
      const e = chain[k] as Element;
      if (!this.cache.has(e)) this.visibility(e);
      if (!this.customCache.has(e)) {
        const parent = isElement(e.parentNode) ? this.customCache.get(e.parentNode) : undefined;
        this.customCache.set(e, parent !== undefined && !this.uninherited ? parent : new Customs(parent, undefined, undefined, this.registered));
      }
    }
    return this.customCache.get(el);
  }
}
