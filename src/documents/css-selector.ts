// CSS selectors for the style sheet reader (html-stylesheet.ts): a parser and a matcher over parse5's
// tree, for the selectors a report can hide text with.
//
// Read: type, `*`, .class, #id and [attribute] tests; descendant, child (>) and sibling (+, ~)
// combinators; :is(), :where() (and their old names :matches(), :-webkit-any()) and :not() over
// selector lists; the structural pseudo-classes (:root, :empty, :first-child, :nth-child(2n+1),
// :last-of-type, …); :link and :any-link; :read-only and :read-write; :open. A page is read as it is
// first shown, nobody acting on it: :hover, :focus, :active, :target, :visited and the like do not
// match (so `.x:not(:hover){display:none}` hides, as the analyst sees it, and `.x:hover{display:none}`
// does not). Form-state pseudo-classes (:checked, :invalid, …) never match anything but a form
// control (form controls are not read anyway). A pseudo-element (::before, :after, ::first-line)
// styles generated content or a part, never hides the element: such a selector is left out.
//
// :has() is followed for arguments of one compound (`:has(> img)`, `:has(+ .x)`), :lang() on the
// lang attributes of the element and its ancestors. What cannot be decided here (:has(a b), :lang()
// with no lang attribute, :dir(), :nth-child(… of S), a vendor-prefixed pseudo-class, an argument of
// :is() this parser does not take) makes the match MAYBE. The caller
// (PageStyles.visibility) lets a rule that MAYBE matches hide text but never show it again: failing
// towards hiding, with a warning that names the text, rather than letting a selector this reader does
// not follow smuggle an indicator the analyst never sees. An unknown pseudo-class makes the selector
// invalid and it is left out, as a browser leaves it out.
//
// Bounded: MAX_SELECTOR_COMPOUNDS compounds a complex selector, :is() nested MAX_NESTING deep, and
// matching counts every compound test against the page's budget (`steps`).
import type { DefaultTreeAdapterMap } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Compound selectors in one complex selector (`div .a > p` has three) followed; past them only the last is decided. */
const MAX_SELECTOR_COMPOUNDS = 8;
/** Selector lists nested in one another (:is(:not(:is(…)))); deeper ones are not read. */
const MAX_NESTING = 3;

/** The outcome of a match: NO, YES, or MAYBE (this reader cannot decide). */
export const NO = 0;
export const YES = 1;
export const MAYBE = 2;
export type Match = typeof NO | typeof YES | typeof MAYBE;

interface AttributeTest {
  readonly name: string;
  readonly op?: string;
  readonly value: string;
  readonly caseless: boolean;
}

type Pseudo =
  | { readonly kind: 'any'; readonly list: readonly Selector[]; readonly unknown: boolean }
  | { readonly kind: 'not'; readonly list: readonly Selector[]; readonly unknown: boolean }
  | { readonly kind: 'has'; readonly relative: readonly Relative[]; readonly unknown: boolean }
  | { readonly kind: 'lang'; readonly ranges: readonly string[] }
  | { readonly kind: 'nth'; readonly a: number; readonly b: number; readonly last: boolean; readonly ofType: boolean }
  | { readonly kind: 'root' | 'empty' | 'link' | 'read-write' | 'read-only' | 'open' | 'form' | 'always' | 'never' | 'maybe' };

interface Compound {
  readonly tag?: string;
  readonly ids: readonly string[];
  readonly classes: readonly string[];
  readonly attributes: readonly AttributeTest[];
  readonly pseudos: readonly Pseudo[];
}

type Combinator = ' ' | '>' | '+' | '~';

/** An argument of :has(): a combinator and one compound (`> img`, `+ .x`, `.y`). */
interface Relative {
  readonly combinator: Combinator;
  readonly compound: Compound;
}

export interface Selector {
  /** Left to right; `combinators[i]` joins compounds i and i+1 (' ' for a descendant). */
  readonly compounds: readonly Compound[];
  readonly combinators: readonly Combinator[];
  readonly specificity: number;
}

const NAME_CHAR = /[A-Za-z0-9_\-\u0080-\uFFFF]/;

/** Index past the string starting at `at` (a quote), or the end of the line or text where it breaks off. */
export function skipString(css: string, at: number, end: number): number {
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

/** Splits a selector list at its top-level commas (not inside brackets, parentheses or strings). */
export function splitSelectorList(prelude: string): string[] {
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

// Pseudo-classes a page matches as first shown, nobody acting on it: none of them.
const USER_STATE = new Set([
  'hover', 'active', 'focus', 'focus-visible', 'focus-within', 'target', 'target-within', 'visited', 'current', 'past', 'future',
  'playing', 'paused', 'seeking', 'buffering', 'stalled', 'muted', 'volume-locked', 'fullscreen', 'modal', 'picture-in-picture',
  'popover-open', 'host', 'drop', 'user-invalid', 'user-valid', 'autofill', '-webkit-autofill', 'blank',
]);
// Pseudo-classes that only ever match a form control (not read: html-read.ts skips forms and controls).
const FORM_STATE = new Set([
  'checked', 'indeterminate', 'default', 'valid', 'invalid', 'in-range', 'out-of-range', 'required', 'optional', 'placeholder-shown',
  'enabled', 'disabled',
]);
const FORM_CONTROLS = new Set(['input', 'select', 'textarea', 'button', 'option', 'optgroup', 'fieldset', 'form', 'output', 'progress', 'meter']);
// Known to a browser, not decided here: the match is MAYBE.
const UNDECIDED = new Set(['dir', 'host-context', 'local-link', 'heading']);
const PSEUDO_ELEMENTS = new Set(['before', 'after', 'first-line', 'first-letter']);

/** `an+b` (or odd, even) as [a, b], or undefined. */
function parseNth(text: string): [number, number] | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, '');
  if (t === 'odd') return [2, 1];
  if (t === 'even') return [2, 0];
  if (/^[+-]?\d+$/.test(t)) return [0, Number(t)];
  const m = /^([+-]?\d*)n([+-]\d+)?$/.exec(t);
  if (m === null) return undefined;
  const a = m[1] === '' || m[1] === '+' ? 1 : m[1] === '-' ? -1 : Number(m[1]);
  return [a, m[2] === undefined ? 0 : Number(m[2])];
}

/** Reads CSS selectors (a small recursive-descent parser over one selector's text). */
class SelectorParser {
  private i = 0;
  /** Specificity the pseudo-classes add (:is() takes its most specific argument, :where() none). */
  private extra = 0;
  constructor(
    private readonly s: string,
    private readonly depth: number,
  ) {}

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

  /** The text of a parenthesised argument starting at `(` (this.i), or undefined if it never closes. */
  private argument(): string | undefined {
    let depth = 0;
    for (let j = this.i; j < this.s.length; ) {
      const c = this.s[j];
      if (c === '"' || c === "'") {
        j = skipString(this.s, j, this.s.length);
        continue;
      }
      if (c === '\\') j += 1;
      else if (c === '(') depth += 1;
      else if (c === ')') {
        depth -= 1;
        if (depth === 0) {
          const text = this.s.slice(this.i + 1, j);
          this.i = j + 1;
          return text;
        }
      }
      j += 1;
    }
    return undefined;
  }

  /** The selectors of a list argument, and whether one of them could not be read here. */
  private list(text: string): { list: Selector[]; unknown: boolean } {
    const list: Selector[] = [];
    let unknown = this.depth >= MAX_NESTING;
    if (!unknown) {
      for (const part of splitSelectorList(text)) {
        if (part.trim() === '') continue;
        const s = parseSelector(part, this.depth + 1);
        if (s === undefined) unknown = true;
        else if (s !== 'pseudo-element') list.push(s);
      }
    }
    return { list, unknown };
  }

  /**
   * :has(): each relative selector of one compound is followed (the element has a descendant,
   * child, next or later sibling that matches it); a longer one (`:has(a b)`) is not, and makes the
   * match MAYBE. Specificity: its most specific argument.
   */
  private has(text: string): Pseudo {
    const relative: Relative[] = [];
    let most = 0;
    let unknown = this.depth >= MAX_NESTING;
    if (!unknown) {
      for (const part of splitSelectorList(text)) {
        const m = /^\s*([>+~]?)\s*([\s\S]*)$/.exec(part);
        const s = parseSelector(m?.[2] ?? '', this.depth + 1);
        if (s === undefined || s === 'pseudo-element' || s.compounds.length !== 1 || s.compounds[0] === undefined) {
          unknown = true;
          continue;
        }
        most = Math.max(most, s.specificity);
        relative.push({ combinator: (m?.[1] || ' ') as Combinator, compound: s.compounds[0] });
      }
    }
    this.extra += most;
    return { kind: 'has', relative, unknown };
  }

  /** A pseudo-class after its `:` (this.i past it), or 'pseudo-element', or undefined if not one a browser takes. */
  private pseudo(): Pseudo | 'pseudo-element' | undefined {
    if (this.s[this.i] === ':') {
      this.i += 1;
      this.ident();
      if (this.s[this.i] === '(') this.argument();
      return 'pseudo-element';
    }
    const name = this.ident()?.toLowerCase();
    if (name === undefined) return undefined;
    if (PSEUDO_ELEMENTS.has(name)) return 'pseudo-element';
    if (this.s[this.i] === '(') {
      const arg = this.argument();
      if (arg === undefined) return undefined;
      if (name === 'is' || name === 'where' || name === 'matches' || name === '-webkit-any' || name === '-moz-any' || name === 'not') {
        const { list, unknown } = this.list(arg);
        if (name !== 'where') this.extra += list.reduce((most, s) => Math.max(most, s.specificity), 0);
        return name === 'not' ? { kind: 'not', list, unknown } : { kind: 'any', list, unknown };
      }
      if (name === 'has') return this.has(arg);
      if (name === 'lang') {
        const ranges = splitSelectorList(arg).map((r) => r.trim().replace(/^["']|["']$/g, '').toLowerCase());
        this.extra += 1e3;
        return ranges.some((r) => r === '' || r.includes('*')) ? { kind: 'maybe' } : { kind: 'lang', ranges };
      }
      this.extra += 1e3;
      const nth = /^nth-(last-)?(child|of-type)$/.exec(name);
      if (nth !== null) {
        // `of S` filters the siblings counted: not followed here.
        if (/\bof\b/i.test(arg)) return { kind: 'maybe' };
        const ab = parseNth(arg);
        return ab === undefined ? undefined : { kind: 'nth', a: ab[0], b: ab[1], last: nth[1] !== undefined, ofType: nth[2] === 'of-type' };
      }
      if (UNDECIDED.has(name) || name.startsWith('-')) return { kind: 'maybe' };
      if (name === 'host' || name === 'state') return { kind: 'never' };
      return undefined;
    }
    this.extra += 1e3;
    const structural = /^(first|last|only)-(child|of-type)$/.exec(name);
    if (structural !== null) {
      const ofType = structural[2] === 'of-type';
      if (structural[1] === 'first') return { kind: 'nth', a: 0, b: 1, last: false, ofType };
      if (structural[1] === 'last') return { kind: 'nth', a: 0, b: 1, last: true, ofType };
      // :only-child is :first-child:last-child; the second half is added by the caller.
      return { kind: 'nth', a: 0, b: 1, last: false, ofType };
    }
    if (name === 'root' || name === 'scope') return { kind: 'root' };
    if (name === 'empty') return { kind: 'empty' };
    if (name === 'link' || name === 'any-link') return { kind: 'link' };
    if (name === 'read-write' || name === 'read-only' || name === 'open') return { kind: name };
    if (name === 'defined') return { kind: 'always' };
    if (USER_STATE.has(name)) return { kind: 'never' };
    if (FORM_STATE.has(name)) return { kind: 'form' };
    if (UNDECIDED.has(name) || name.startsWith('-')) return { kind: 'maybe' };
    return undefined;
  }

  private compound(): Compound | 'pseudo-element' | undefined {
    let tag: string | undefined;
    let any = false;
    const ids: string[] = [];
    const classes: string[] = [];
    const attributes: AttributeTest[] = [];
    const pseudos: Pseudo[] = [];
    let element = false;
    // A namespace prefix (`*|p`, `|p`): an HTML page's elements are in every namespace a sheet names.
    if (this.s.startsWith('*|', this.i) && this.s[this.i + 2] !== '=') this.i += 2;
    else if (this.s[this.i] === '|' && this.s[this.i + 1] !== '=') this.i += 1;
    if (this.s[this.i] === '*') {
      this.i += 1;
      any = true;
    } else if (!/[.#[:]/.test(this.s[this.i] ?? '')) {
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
      } else if (c === ':') {
        this.i += 1;
        const only = /^only-(child|of-type)\b/i.exec(this.s.slice(this.i, this.i + 12));
        const p = this.pseudo();
        if (p === undefined) return undefined;
        if (p === 'pseudo-element') element = true;
        else {
          pseudos.push(p);
          if (only !== null && p.kind === 'nth') pseudos.push({ ...p, last: true });
        }
      } else break;
    }
    if (element) return 'pseudo-element';
    if (tag === undefined && !any && ids.length + classes.length + attributes.length + pseudos.length === 0) return undefined;
    return { ...(tag === undefined ? {} : { tag }), ids, classes, attributes, pseudos };
  }

  /** The whole text as one complex selector, 'pseudo-element', or undefined if it is not one this reader takes. */
  complex(): Selector | 'pseudo-element' | undefined {
    const compounds: Compound[] = [];
    const combinators: Combinator[] = [];
    this.ws();
    for (;;) {
      const c = this.compound();
      if (c === undefined || c === 'pseudo-element') return c;
      compounds.push(c);
      const spaced = this.ws();
      if (this.i >= this.s.length) break;
      const next = this.s[this.i];
      if (next === '>' || next === '+' || next === '~') {
        this.i += 1;
        this.ws();
        combinators.push(next);
      } else if (spaced && !/[|,]/.test(next ?? '')) combinators.push(' ');
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
    const specificity = Math.min(a, 999) * 1e6 + Math.min(b, 999) * 1e3 + Math.min(t, 999) + this.extra;
    const last = compounds[compounds.length - 1];
    if (compounds.length > MAX_SELECTOR_COMPOUNDS && last !== undefined) {
      // Longer than is followed: only its subject is decided, and the rest may match or not (MAYBE:
      // it may hide text, never show it). Left out, it let nine compounds smuggle a value.
      return { compounds: [{ ...last, pseudos: [...last.pseudos, { kind: 'maybe' }] }], combinators: [], specificity };
    }
    return { compounds, combinators, specificity };
  }
}

/**
 * One complex selector of a list, 'pseudo-element' if it selects one (it never hides an element's
 * text), or undefined if it is not a selector a browser or this reader takes.
 */
export function parseSelector(text: string, depth = 0): Selector | 'pseudo-element' | undefined {
  return new SelectorParser(text.trim(), depth).complex();
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function isElement(node: Node | null | undefined): node is Element {
  return node !== null && node !== undefined && 'tagName' in node;
}

interface Place {
  /** 1-based position among the parent's element children, and among those of its type. */
  readonly index: number;
  readonly count: number;
  readonly typeIndex: number;
  readonly typeCount: number;
  readonly previous: Element | undefined;
  readonly next: Element | undefined;
}

/** Needles longer than this are searched for in linear time (contains()). */
const LONG_NEEDLE = 32;
/** Characters of attribute values tested that cost one step of the matching budget. */
const ATTRIBUTE_CHARS_PER_STEP = 256;

/**
 * Whether `haystack` contains `needle`, in time linear in both (Knuth–Morris–Pratt for a long
 * needle: the engine's own search compared 'a'×5,000 with 'a'×999+'b' 5 million times). `count`,
 * if given, adds the characters compared.
 */
export function contains(haystack: string, needle: string, count?: { compared: number }): boolean {
  if (needle.length <= LONG_NEEDLE) {
    if (count !== undefined) count.compared += haystack.length;
    return haystack.includes(needle);
  }
  // fail[i]: the length of the longest proper prefix of needle[0..i] that is also its suffix.
  const fail = new Int32Array(needle.length);
  let compared = 0;
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle.charCodeAt(i) !== needle.charCodeAt(k)) {
      k = fail[k - 1] ?? 0;
      compared += 1;
    }
    compared += 1;
    if (needle.charCodeAt(i) === needle.charCodeAt(k)) k += 1;
    fail[i] = k;
  }
  let found = false;
  for (let i = 0, k = 0; i < haystack.length; i++) {
    while (k > 0 && haystack.charCodeAt(i) !== needle.charCodeAt(k)) {
      k = fail[k - 1] ?? 0;
      compared += 1;
    }
    compared += 1;
    if (haystack.charCodeAt(i) === needle.charCodeAt(k)) k += 1;
    if (k === needle.length) {
      found = true;
      break;
    }
  }
  if (count !== undefined) count.compared += compared;
  return found;
}

/** Matches selectors against one parsed page, within a budget of compound tests. */
export class SelectorMatcher {
  /** Whether matching stopped at the budget (nothing matches from then on). */
  exhausted = false;
  private steps = 0;
  private readonly classCache = new Map<Element, ReadonlySet<string>>();
  private readonly places = new Map<Element, Place>();

  constructor(
    /** In quirks mode (no doctype) class and id selectors match regardless of case. */
    readonly quirks: boolean,
    private readonly maxSteps: number,
  ) {}

  classes(el: Element): ReadonlySet<string> {
    let set = this.classCache.get(el);
    if (set === undefined) {
      const value = attr(el, 'class') ?? '';
      set = new Set((this.quirks ? value.toLowerCase() : value).split(/[ \t\n\r\f]+/).filter((c) => c !== ''));
      this.classCache.set(el, set);
    }
    return set;
  }

  /** `el`'s place among its siblings (found for all of a parent's children at once: a parent may have 100,000). */
  private place(el: Element): Place {
    let p = this.places.get(el);
    if (p === undefined) {
      const kids = (el.parentNode?.childNodes ?? [el]).filter(isElement);
      const typeCounts = new Map<string, number>();
      for (const kid of kids) typeCounts.set(kid.tagName, (typeCounts.get(kid.tagName) ?? 0) + 1);
      const seen = new Map<string, number>();
      kids.forEach((kid, k) => {
        const typeIndex = (seen.get(kid.tagName) ?? 0) + 1;
        seen.set(kid.tagName, typeIndex);
        const typeCount = typeCounts.get(kid.tagName) ?? 1;
        this.places.set(kid, { index: k + 1, count: kids.length, typeIndex, typeCount, previous: kids[k - 1], next: kids[k + 1] });
      });
      p = this.places.get(el) ?? { index: 1, count: 1, typeIndex: 1, typeCount: 1, previous: undefined, next: undefined };
      this.places.set(el, p);
    }
    return p;
  }

  private pseudo(el: Element, p: Pseudo): Match {
    switch (p.kind) {
      case 'any': {
        let out: Match = p.unknown ? MAYBE : NO;
        for (const s of p.list) {
          const m = this.matches(s, el);
          if (m === YES) return YES;
          if (m === MAYBE) out = MAYBE;
        }
        return out;
      }
      case 'not': {
        let out: Match = p.unknown ? MAYBE : YES;
        for (const s of p.list) {
          const m = this.matches(s, el);
          if (m === YES) return NO;
          if (m === MAYBE) out = MAYBE;
        }
        return out;
      }
      case 'has': {
        let out: Match = p.unknown ? MAYBE : NO;
        for (const r of p.relative) {
          const m = this.hasRelative(el, r);
          if (m === YES) return YES;
          if (m === MAYBE) out = MAYBE;
        }
        return out;
      }
      case 'lang': {
        let lang: string | undefined;
        for (let e: Element | undefined = el; e !== undefined && lang === undefined; e = isElement(e.parentNode) ? e.parentNode : undefined) {
          lang = attr(e, 'lang') ?? attr(e, 'xml:lang');
        }
        // Without a lang attribute the language may come from the HTTP response or a <meta>: not known here.
        if (lang === undefined) return MAYBE;
        const l = lang.toLowerCase();
        return p.ranges.some((r) => l === r || l.startsWith(`${r}-`)) ? YES : NO;
      }
      case 'nth': {
        const place = this.place(el);
        const position = p.ofType ? (p.last ? place.typeCount - place.typeIndex + 1 : place.typeIndex) : p.last ? place.count - place.index + 1 : place.index;
        // position = a·n + b for some n ≥ 0.
        if (p.a === 0) return position === p.b ? YES : NO;
        const n = (position - p.b) / p.a;
        return Number.isInteger(n) && n >= 0 ? YES : NO;
      }
      case 'root':
        return isElement(el.parentNode) ? NO : YES;
      case 'empty':
        return el.childNodes.every((c) => c.nodeName === '#comment') ? YES : NO;
      case 'link':
        return (el.tagName === 'a' || el.tagName === 'area') && attr(el, 'href') !== undefined ? YES : NO;
      case 'read-write':
      case 'read-only': {
        const editable =
          ((el.tagName === 'input' || el.tagName === 'textarea') && attr(el, 'readonly') === undefined && attr(el, 'disabled') === undefined) ||
          (attr(el, 'contenteditable') !== undefined && attr(el, 'contenteditable')?.toLowerCase() !== 'false');
        return editable === (p.kind === 'read-write') ? YES : NO;
      }
      case 'open':
        return (el.tagName === 'details' || el.tagName === 'dialog') && attr(el, 'open') !== undefined ? YES : NO;
      case 'form':
        return FORM_CONTROLS.has(el.tagName) ? MAYBE : NO;
      case 'always':
        return YES;
      case 'never':
        return NO;
      case 'maybe':
        return MAYBE;
    }
  }

  /** Whether `el` has a relative (descendant, child, next or later sibling) that matches `r`'s compound. */
  private hasRelative(el: Element, r: Relative): Match {
    let out: Match = NO;
    const test = (e: Element): boolean => {
      if (this.steps > this.maxSteps) {
        this.exhausted = true;
        return true;
      }
      const m = this.compound(e, r.compound);
      if (m === MAYBE) out = MAYBE;
      return m === YES;
    };
    if (r.combinator === '+' || r.combinator === '~') {
      for (let e = this.place(el).next; e !== undefined; e = r.combinator === '+' ? undefined : this.place(e).next) if (test(e)) return this.exhausted ? NO : YES;
      return out;
    }
    const stack: Element[] = el.childNodes.filter(isElement);
    for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
      if (test(e)) return this.exhausted ? NO : YES;
      if (r.combinator === ' ') for (const kid of e.childNodes) if (isElement(kid)) stack.push(kid);
    }
    return out;
  }

  private compound(el: Element, c: Compound): Match {
    this.steps += 1;
    if (c.tag !== undefined && el.tagName.toLowerCase() !== c.tag) return NO;
    if (c.ids.length > 0) {
      const id = attr(el, 'id');
      if (id === undefined) return NO;
      for (const want of c.ids) if ((this.quirks ? want.toLowerCase() : want) !== (this.quirks ? id.toLowerCase() : id)) return NO;
    }
    if (c.classes.length > 0) {
      const have = this.classes(el);
      for (const want of c.classes) if (!have.has(this.quirks ? want.toLowerCase() : want)) return NO;
    }
    for (const test of c.attributes) {
      const found = el.attrs.find((a) => a.name.toLowerCase() === test.name);
      if (found === undefined) return NO;
      if (test.op === undefined) continue;
      // A test scans the value (a page can give an element a megabyte of attribute, and a style
      // sheet test it thousands of times): counted by its length.
      this.steps += Math.floor((found.value.length + test.value.length) / ATTRIBUTE_CHARS_PER_STEP);
      const v = test.caseless ? found.value.toLowerCase() : found.value;
      const w = test.caseless ? test.value.toLowerCase() : test.value;
      const ok =
        test.op === '=' ? v === w
        : test.op === '~=' ? w !== '' && !/\s/.test(w) && v.split(/[ \t\n\r\f]+/).includes(w)
        : test.op === '|=' ? v === w || v.startsWith(`${w}-`)
        : test.op === '^=' ? w !== '' && v.startsWith(w)
        : test.op === '$=' ? w !== '' && v.endsWith(w)
        : w !== '' && contains(v, w);
      if (!ok) return NO;
    }
    let out: Match = YES;
    for (const p of c.pseudos) {
      const m = this.pseudo(el, p);
      if (m === NO) return NO;
      if (m === MAYBE) out = MAYBE;
    }
    return out;
  }

  /** Counts `steps` of other work (applying what matched) against the budget. */
  charge(steps: number): void {
    this.steps += steps;
    if (this.steps > this.maxSteps) this.exhausted = true;
  }

  /** Whether `el` matches `s`. */
  matches(s: Selector, el: Element): Match {
    return this.from(s, s.compounds.length - 1, el);
  }

  /** Whether `el` matches compounds[0..at] of `s`, compounds[at] tested on `el` itself. */
  private from(s: Selector, at: number, el: Element): Match {
    if (this.steps > this.maxSteps) {
      this.exhausted = true;
      return NO;
    }
    const c = s.compounds[at];
    if (c === undefined) return NO;
    const here = this.compound(el, c);
    if (here === NO || at === 0) return here;
    // The best of the ways the rest can match (YES over MAYBE over NO), no better than `here`.
    const rest = (m: Match): Match => (m === NO ? NO : here === MAYBE ? MAYBE : m);
    const combinator = s.combinators[at - 1];
    if (combinator === '>') {
      const parent = el.parentNode;
      return isElement(parent) ? rest(this.from(s, at - 1, parent)) : NO;
    }
    if (combinator === '+') {
      const before = this.place(el).previous;
      return before === undefined ? NO : rest(this.from(s, at - 1, before));
    }
    let best: Match = NO;
    const next = combinator === '~' ? (p: Element): Element | undefined => this.place(p).previous : (p: Element): Element | undefined => (isElement(p.parentNode) ? p.parentNode : undefined);
    for (let p = next(el); p !== undefined; p = next(p)) {
      const m = this.from(s, at - 1, p);
      if (m === YES) return rest(YES);
      if (m === MAYBE) best = MAYBE;
      if (this.exhausted) return NO;
    }
    return rest(best);
  }
}
