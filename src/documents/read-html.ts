// HTML → text: the main content of a page, as an analyst would read it in a browser, with tables
// kept as one line per row (cells separated by tabs) and code blocks kept verbatim. parse5 only
// builds a tree: no script runs, no style is applied, nothing (images, frames, links) is fetched.
// Text inside script, style, template, noscript, SVG and forms is dropped; link targets are not
// read, only the text the reader sees. Page chrome (nav, footer, aside, the ARIA roles of banners,
// sidebars and menus, and what lies outside a page's <main> or <article>s) is not read either, so
// that a site's boilerplate is never proposed; but the analyst sees it, and a sidebar's "IOCs" box
// is chrome too, so its shown text comes back apart from the text (DocumentText.chrome, never part
// of `text`) for whoever extracts to check for values that look like indicators and name them in a
// warning (drafts/extract-document.ts): the reader stays pure, and extraction runs in one place, with
// the analyst's publisher domains. Text a reader of the rendered page does not see is dropped too, with a warning: a report from a compromised partner
// could otherwise plant indicators there that the analyst, who reads the rendered page, never sees
// but is asked to accept. That is text in a closed <details> (its summary aside), under the `hidden`
// attribute or a display:none, visibility:hidden or content-visibility:hidden style, and text laid
// out but unseen (css-hiding.ts: opacity:0, a font size of zero, the colour of its background, moved
// off the screen, clipped), by inline styles or the page's <style> elements as html-stylesheet.ts
// reads them. Linked style sheets
// are never fetched: a page that has them gets a warning that they were not applied.
//
// Parsing runs on the caller's thread (the CLI's, or a server's event loop for POST /api/drafts), so
// its cost is bounded (document-limits.ts): tags nested too deep are flattened before parse5 sees
// them, the elements it builds are counted as it builds them, and the page is fed to it in pieces
// with the CPU time checked between pieces.
import { defaultTreeAdapter, Parser } from 'parse5';
import type { DefaultTreeAdapterMap, TreeAdapter } from 'parse5';
import { EntenteError } from '../errors/entente-error.ts';
import { DEFAULT_DOCUMENT_LIMITS } from './document-limits.ts';
import type { DocumentLimits } from './document-limits.ts';
import { invisibleWarning, TextBuilder } from './document-text.ts';
import type { DocumentText, PageChrome } from './document-text.ts';
import { MAX_STYLESHEET_CHARS, PageStyles } from './html-stylesheet.ts';
import type { Visibility } from './html-stylesheet.ts';
import { PAGE, render } from './css-hiding.ts';
import type { Rendering } from './css-hiding.ts';
import { invisibleInWords, isInvisible, isKeptJoiner, renderedText, shown } from '../extract/invisible.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];
type Document = DefaultTreeAdapterMap['document'];

const SKIP = new Set([
  'script', 'style', 'noscript', 'template', 'head', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas',
  'select', 'button', 'input', 'textarea', 'nav', 'footer', 'aside', 'form', 'dialog', 'audio', 'video',
]);
const SKIP_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search']);
// Of SKIP, the page chrome: a site's own boilerplate, not read for proposals, but seen by the analyst
// and so checked for indicators (chromeText). The rest of SKIP (scripts, forms, media) is not text a
// reader of the page reads.
const CHROME = new Set(['nav', 'footer', 'aside']);
const BLOCK = new Set([
  'address', 'article', 'blockquote', 'body', 'dd', 'details', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'ol', 'p', 'section', 'summary', 'table',
  'tbody', 'thead', 'tfoot', 'ul', 'caption', 'center',
]);
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'pre', 'blockquote', 'ul', 'ol', 'figure']);
// Elements a browser's own style sheet does not display (unless the author's styles set a display);
// parse5 reads the text of <noframes> and <noembed> as text, so a page could hide a value in them.
const NOT_DISPLAYED = new Set(['noframes', 'noembed', 'datalist', 'rp', 'title', 'area', 'base', 'link', 'meta', 'param']);

/**
 * Whether a browser shows nothing of what `el` holds: display:none or content-visibility:hidden (in
 * its style attribute or the page's style sheets, html-stylesheet.ts), or the `hidden` attribute
 * or an element in NOT_DISPLAYED (the user agent's display:none, unless the author's styles set a
 * display).
 */
function notDisplayed(el: Element, css: Visibility): boolean {
  if (css.contentVisibility === 'hidden') return true;
  if (css.display !== undefined) return css.display === 'none';
  return NOT_DISPLAYED.has(el.tagName) || attr(el, 'hidden') !== undefined;
}

/** Whether `el` hides itself and its content from view: not displayed, visibility:hidden or collapse, or unseen (css-hiding.ts). */
function hiddenFromView(el: Element, styles: PageStyles): boolean {
  const css = styles.visibility(el);
  // Judged on its own (not with what it inherits): enough to keep unseen text from deciding the main content.
  return notDisplayed(el, css) || css.visibility === 'hidden' || css.visibility === 'collapse' || render(PAGE, el.tagName, css) === 'unseen';
}

function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

/**
 * Whether `node` is in a closed <details> other than as its summary: a browser shows only the first
 * <summary> until the reader opens it (the rest is as hidden as hidden=until-found, and a planted
 * value behind an empty summary is one no analyst clicks for).
 */
function inClosedDetails(node: Node): boolean {
  const parent = 'parentNode' in node ? node.parentNode : null;
  if (parent === null || !isElement(parent) || parent.tagName !== 'details' || attr(parent, 'open') !== undefined) return false;
  return !(isElement(node) && node.tagName === 'summary' && parent.childNodes.find((k) => isElement(k) && k.tagName === 'summary') === node);
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function children(node: Node): readonly Node[] {
  return 'childNodes' in node ? node.childNodes : [];
}

// Iterative walks: a hostile page can nest elements a hundred thousand deep.
/** The length of the text under `root`, hidden elements below it left out (hidden text must not decide what the main content is). */
function textLength(root: Node, styles: PageStyles): number {
  let n = 0;
  const stack: Node[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.nodeName === '#text') n += 'value' in node ? node.value.length : 0;
    else if (!(isElement(node) && (SKIP.has(node.tagName) || (node !== root && hiddenFromView(node, styles))))) {
      // One at a time: spreading a list of 130,000 children into one call overflows the stack.
      for (const kid of children(node)) stack.push(kid);
    }
  }
  return n;
}

function find(root: Node, pick: (el: Element) => boolean, styles: PageStyles): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (isElement(node)) {
      if (pick(node)) {
        out.push(node);
        continue;
      }
      if (SKIP.has(node.tagName) && node.tagName !== 'head') continue;
      // A <main> inside a hidden element would be read as if it were shown.
      if (hiddenFromView(node, styles)) continue;
    }
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) {
      const kid = kids[i];
      if (kid !== undefined) stack.push(kid);
    }
  }
  return out;
}

/**
 * The elements holding the main content: every <main> / role=main, else every <article>, when they
 * hold at least a third of the page's text; otherwise the whole body.
 */
function mainContent(doc: Node, styles: PageStyles): Node[] {
  const total = textLength(doc, styles);
  for (const pick of [
    (el: Element) => el.tagName === 'main' || attr(el, 'role') === 'main',
    (el: Element) => el.tagName === 'article',
  ]) {
    const found = find(doc, pick, styles);
    const n = found.reduce((sum, el) => sum + textLength(el, styles), 0);
    if (found.length > 0 && n >= total / 3) return found;
  }
  return [doc];
}

const SAMPLE_CHARS = 80;

/**
 * Characters of text under `root` other than white space (script and the like left out), and its
 * first SAMPLE_CHARS characters or so, white space collapsed.
 */
function hiddenText(root: Node): { chars: number; sample: string } {
  let n = 0;
  let sample = '';
  const stack: Node[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.nodeName === '#text' && 'value' in node) {
      n += node.value.replace(/\s+/g, '').length;
      if (sample.length < SAMPLE_CHARS) sample += ` ${node.value}`;
    } else if (!(isElement(node) && SKIP.has(node.tagName))) {
      // In document order: the sample reads as the page does.
      const kids = children(node);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i];
        if (kid !== undefined) stack.push(kid);
      }
    }
  }
  return { chars: n, sample };
}

/** A sample of hidden text for a warning: white space collapsed, invisible characters shown, cut short. */
function sampleOf(text: string): string {
  const t = shown(text.replace(/\s+/g, ' ').trim());
  return t.length > SAMPLE_CHARS ? `${t.slice(0, SAMPLE_CHARS)}…` : t;
}

class HtmlText {
  readonly out = new TextBuilder();
  private pre = 0;
  private pendingSpace = false;
  /** False inside visibility:hidden (until a visibility:visible element shows its own content again). */
  private shown = true;
  /** Font size, colours and the like passed down to the text (css-hiding.ts). */
  private rendering: Rendering = PAGE;
  /** Whether text here is seen: shown, and not too small, the colour of its background or moved off the screen. */
  private visible = true;
  /** Hidden elements that held text, and the characters of it (white space left out) not read. */
  hiddenElements = 0;
  /** Of those, the ones a style sheet hid (rather than the element's own attributes). */
  hiddenBySheet = 0;
  /** Of those, the ones a rule hid whose selector may or may not match (css-selector.ts): counted as hiding. */
  hiddenByGuess = 0;
  hiddenChars = 0;
  /** The beginning of the first hidden text, for the warning. */
  hiddenSample = '';
  /** Words that look like indicators and held invisible characters (invisible.ts), and a few of them. */
  invisibleWords = 0;
  readonly invisibleSamples: string[] = [];

  constructor(private readonly styles: PageStyles) {}

  private text(value: string, start: number | undefined, end: number | undefined): void {
    if (!this.visible) {
      const n = value.replace(/\s+/g, '').length;
      this.hiddenChars += n;
      if (n > 0 && this.hiddenSample.length < SAMPLE_CHARS) this.hiddenSample += ` ${value}`;
      // It still takes its place on the line: the text on either side is not joined into one word.
      if (n > 0) this.pendingSpace = true;
      return;
    }
    const invisible = invisibleInWords(value, 5 - this.invisibleSamples.length);
    if (invisible.count > 0) {
      this.invisibleWords += invisible.count;
      this.invisibleSamples.push(...invisible.words);
    }
    // Invisible characters (Unicode's default-ignorable ones: zero-width, soft hyphen, tag
    // characters, bidi controls...) that sites insert to break long tokens, or to defeat extractors:
    // a browser shows them as nothing, so the text has none; Hangul fillers it draws as a blank, so
    // they part the words on either side as a space does. The extractor's own sets and rule, which
    // it applies to every other kind of document (invisible.ts).
    const clean = renderedText(value);
    const where = start === undefined || end === undefined ? {} : { sourceStart: start, sourceEnd: end };
    // The node's source is its text verbatim (no entities): offsets can be exact.
    const verbatim = start !== undefined && end !== undefined && end - start === value.length ? start : undefined;
    if (this.pre > 0) {
      if (verbatim !== undefined && clean !== value) this.addAround(clean, 0, value, verbatim);
      else this.out.add(clean, where);
      this.pendingSpace = false;
      return;
    }
    const collapsed = clean.replace(/[ \t\n\f\r]+/g, ' ');
    if (collapsed === '') return;
    const last = this.out.lastChar();
    const atLineStart = last === '' || last === '\n' || last === '\t';
    let body = collapsed;
    if (body.startsWith(' ')) {
      body = body.slice(1);
      if (!atLineStart) this.pendingSpace = true;
    }
    const trailing = body.endsWith(' ');
    if (trailing) body = body.slice(0, -1);
    if (body !== '') {
      if (this.pendingSpace && !atLineStart) this.out.separator(' ');
      // Exact offsets when the node's source is its text verbatim (no entities, nothing collapsed).
      const k = verbatim === undefined ? -1 : clean.indexOf(body);
      if (k >= 0 && verbatim !== undefined && clean !== value) this.addAround(body, k, value, verbatim);
      else this.out.add(body, k >= 0 && verbatim !== undefined ? { sourceStart: verbatim + k, sourceEnd: verbatim + k + body.length } : where);
      this.pendingSpace = false;
    }
    if (trailing) this.pendingSpace = true;
  }

  /**
   * Adds `piece`, found at `at` in `value` with its invisible characters removed, as the runs between
   * them, each with its exact offsets in the source (`value` starts at `sourceStart` there): an
   * indicator split by a zero-width space is still highlighted where it stands.
   */
  private addAround(piece: string, at: number, value: string, sourceStart: number): void {
    // kept[i]: where the i-th UTF-16 unit of the cleaned text stands in `value`. Walked by code
    // point: an astral invisible character (a tag) is two units to skip, an astral visible one (an
    // emoji) two to keep.
    const kept: number[] = [];
    for (let v = 0; v < value.length && kept.length < at + piece.length; ) {
      const code = value.codePointAt(v) as number;
      const units = code > 0xffff ? 2 : 1;
      // A joiner renderedText kept (isKeptJoiner) is in the cleaned text: it is one of its units.
      if (!isInvisible(code) || isKeptJoiner(value, v)) for (let u = 0; u < units; u++) kept.push(v + u);
      v += units;
    }
    let runStart = 0;
    for (let i = 1; i <= piece.length; i++) {
      const here = kept[at + i - 1] as number;
      if (i < piece.length && kept[at + i] === here + 1) continue;
      const from = kept[at + runStart] as number;
      this.out.add(piece.slice(runStart, i), { sourceStart: sourceStart + from, sourceEnd: sourceStart + here + 1 });
      runStart = i;
    }
  }

  private block(lines: number): void {
    this.pendingSpace = false;
    this.out.breakLines(lines);
  }

  /** Reads `root` and everything under it, without recursion. */
  walk(root: Node): void {
    const stack: { node: Node; exit?: () => void }[] = [{ node: root }];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      if (item.exit !== undefined) {
        item.exit();
        continue;
      }
      const node = item.node;
      const exit = this.enter(node);
      if (exit === null) continue;
      stack.push({ node, exit });
      const kids = children(node);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i];
        if (kid !== undefined) stack.push({ node: kid });
      }
    }
  }

  /**
   * Skips `node` (an element, or a text in a closed <details>), nothing of which is shown whatever it
   * says of itself, and counts its text for the warning; `css` says what hid an element.
   */
  private skipHidden(node: Node, css?: Visibility): null {
    const hidden = this.visible ? hiddenText(node) : { chars: 0, sample: '' };
    if (hidden.chars > 0) {
      this.hiddenElements += 1;
      if (css?.bySheet === true) this.hiddenBySheet += 1;
      if (css?.byGuess === true) this.hiddenByGuess += 1;
      this.hiddenChars += hidden.chars;
      if (this.hiddenSample.trim() === '') this.hiddenSample = hidden.sample;
    }
    return null;
  }

  /** Handles the start of `node`; returns what to do after its children, or null to skip them. */
  private enter(node: Node): (() => void) | null {
    if (node.nodeName === '#text' && 'value' in node) {
      if (inClosedDetails(node)) return this.skipHidden(node);
      const loc = node.sourceCodeLocation;
      this.text(node.value, loc?.startOffset, loc?.endOffset);
      return null;
    }
    if (!isElement(node)) return () => {};
    if (SKIP.has(node.tagName)) return null;
    const css = this.styles.visibility(node);
    const rendering = render(this.rendering, node.tagName, css);
    if (notDisplayed(node, css) || rendering === 'unseen' || inClosedDetails(node)) return this.skipHidden(node, css);
    if (css.visibility === undefined && rendering === this.rendering) return this.enterElement(node);
    // visibility, font size, colour and text-indent are inherited, and a descendant may set them
    // right again (a browser shows that).
    const wasShown = this.shown;
    const wasRendering = this.rendering;
    const wasVisible = this.visible;
    const hiddenBefore = this.hiddenChars;
    if (css.visibility !== undefined) {
      // `initial` is visible; a var() the style sheet reader left unresolved (a rule that may not apply
      // sets its custom property) counts as showing, as that reader counts it.
      const shows = css.visibility === 'visible' || css.visibility === 'initial' || css.visibility.startsWith('var(');
      this.shown = shows || (css.visibility !== 'hidden' && css.visibility !== 'collapse' && wasShown);
    }
    this.rendering = rendering;
    this.visible = this.shown && !rendering.textUnseen;
    const exit = this.enterElement(node);
    const restore = (): void => {
      if (wasVisible && !this.visible && this.hiddenChars > hiddenBefore) {
        this.hiddenElements += 1;
        if (css.bySheet) this.hiddenBySheet += 1;
        if (css.byGuess) this.hiddenByGuess += 1;
      }
      this.shown = wasShown;
      this.rendering = wasRendering;
      this.visible = wasVisible;
    };
    if (exit === null) {
      restore();
      return null;
    }
    return () => {
      exit();
      restore();
    };
  }

  private enterElement(node: Element): (() => void) | null {
    const tag = node.tagName;
    const role = attr(node, 'role');
    if (role !== undefined && SKIP_ROLES.has(role)) return null;
    // aria-hidden="true" is read: it hides an element from screen readers, not from the page, so a
    // sighted analyst sees its text, and a value they see must be proposed. Dropping it (as icons
    // and repeated labels) lost such values; its cost, an icon font's ligature word ("content_copy")
    // or a label read twice, is prose no row proposes. Text a browser does not draw is judged by
    // what hides it (hidden, display, visibility...), never by this attribute.
    if (tag === 'br') {
      this.block(1);
      return null;
    }
    if (tag === 'wbr') return null;
    if (tag === 'td' || tag === 'th') {
      const last = this.out.lastChar();
      if (last !== '' && last !== '\n') this.out.separator('\t');
      this.pendingSpace = false;
      return () => {};
    }
    if (tag === 'tr') {
      this.block(1);
      return () => this.block(1);
    }
    if (tag === 'pre' || tag === 'textarea' || tag === 'xmp' || tag === 'listing' || tag === 'plaintext') {
      this.block(2);
      this.pre++;
      return () => {
        this.pre--;
        this.block(2);
      };
    }
    const lines = PARAGRAPH.has(tag) ? 2 : BLOCK.has(tag) ? 1 : 0;
    if (lines === 0) return () => {};
    this.block(lines);
    return () => this.block(lines);
  }
}

/**
 * Most characters of page chrome kept for the indicator check (DocumentText.chrome), for one page and
 * for all the pages of one document (an e-mail's body and attachments, read-email.ts). A sidebar's
 * IOC box or a footer is a few KiB; a hostile or generated nav can be megabytes, and extracting all
 * of it would cost as much again as the report and could refuse the page for holding more than
 * MAX_OBSERVABLES, for text that is never proposed. Past it the warning says only the first part was
 * checked.
 */
export const MAX_CHROME_CHARS = 64 * 1024;
// Elements after which a browser starts a new line or cell: their text is not joined to the next.
const APART = new Set([...BLOCK, ...PARAGRAPH, 'br', 'tr', 'td', 'th', 'pre']);

// Longest stretch of text without white space that cutChrome drops to cut between words.
const CUT_BACK_CHARS = 2048;

/**
 * `text` cut to at most `max` characters, at the last white space before the cut when it lies within
 * CUT_BACK_CHARS of it: a value cut in two (a SHA-256's first 40 digits read as a SHA-1) would be
 * named as one the page does not hold. A longer word (nothing like a value) is cut where it must be.
 */
export function cutChrome(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('\n'), cut.lastIndexOf('\t'));
  return space >= 0 && max - space <= CUT_BACK_CHARS ? cut.slice(0, space) : cut;
}

/**
 * The text of the page that is shown but not read as its content: page chrome (nav, footer, aside,
 * role=navigation, banner, contentinfo, complementary, search) anywhere, and everything outside the
 * main content when the page has one (`roots`, mainContent). Hidden elements, closed <details>,
 * scripts and forms are left out as the reader leaves them out, and text unseen by what it inherits
 * (a font size of zero, the colour of its background: css-hiding.ts) too, so that the warning never
 * names a value the analyst cannot see. At most `max` characters (cutChrome); the walk stops there.
 */
function chromeText(doc: Node, roots: readonly Node[], styles: PageStyles, max: number): Omit<PageChrome, 'name' | 'hosts'> {
  const read = new Set(roots);
  const first = roots[0];
  const outside = first === undefined || first === doc || !isElement(first)
    ? undefined
    : first.tagName === 'main' || attr(first, 'role') === 'main' ? "outside the page's <main>" : "outside the page's <article>s";
  const parts: string[] = [];
  const kinds: { at: number; label: string }[] = [];
  let length = 0;
  const done = (truncated: boolean): Omit<PageChrome, 'name' | 'hosts'> => {
    const text = cutChrome(parts.join(''), max);
    return { text, kinds: kinds.filter((k) => k.at < text.length), truncated };
  };
  const stack: { node: Node; label: string | undefined; rendering: Rendering }[] = [{ node: doc, label: outside, rendering: PAGE }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const node = item.node;
    let label = item.label;
    let rendering = item.rendering;
    if (node.nodeName === '#text' && 'value' in node) {
      if (label === undefined || rendering.textUnseen || node.value.trim() === '' || inClosedDetails(node)) continue;
      if (kinds.at(-1)?.label !== label) {
        kinds.push({ at: length, label });
        parts.push('\n');
        length += 1;
      }
      // No more of a huge text node than the budget takes.
      const value = node.value.length > max - length + 1 ? node.value.slice(0, max - length + 1) : node.value;
      parts.push(value);
      length += value.length;
      if (length > max) return done(true);
      continue;
    }
    if (isElement(node)) {
      const role = attr(node, 'role');
      if (read.has(node)) label = undefined;
      else if (CHROME.has(node.tagName)) label = `<${node.tagName}>`;
      else if (role !== undefined && SKIP_ROLES.has(role)) label = `role=${role}`;
      else if (SKIP.has(node.tagName)) continue;
      const css = styles.visibility(node);
      const next = render(rendering, node.tagName, css);
      // visibility:hidden is judged on the element alone (a descendant made visible again is left
      // out too): the warning may miss a value, never name one that is not shown.
      if (next === 'unseen' || notDisplayed(node, css) || css.visibility === 'hidden' || css.visibility === 'collapse' || inClosedDetails(node)) continue;
      rendering = next;
      if (APART.has(node.tagName) && label !== undefined) {
        parts.push('\n');
        length += 1;
      }
    }
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) {
      const kid = kids[i];
      if (kid !== undefined) stack.push({ node: kid, label, rendering });
    }
  }
  return done(false);
}

/**
 * The hosts the page says it is at, as written in it (nothing is fetched): <link rel=canonical>,
 * <meta property=og:url>, <base href>, and the comment a browser's "Save page as" puts first
 * ("saved from url=(0041)https://..."). Lower case, a leading "www." dropped so that the site's other
 * names (blog., press@) count as its own. A hostile page can name any host here, but all it can
 * do with it is keep quiet about values in its own chrome, which are never proposed either way.
 */
function ownHosts(doc: Document, styles: PageStyles): string[] {
  const urls: string[] = [];
  for (const node of doc.childNodes) {
    const saved = node.nodeName === '#comment' && 'data' in node ? /saved from url=\(\d+\)(\S+)/.exec(node.data) : null;
    if (saved?.[1] !== undefined) urls.push(saved[1]);
  }
  const links = find(doc, (el) => el.tagName === 'link' || el.tagName === 'meta' || el.tagName === 'base', styles);
  for (const el of links.slice(0, 64)) {
    const rel = (attr(el, 'rel') ?? '').toLowerCase().split(/\s+/);
    const url = el.tagName === 'link' ? (rel.includes('canonical') ? attr(el, 'href') : undefined)
      : el.tagName === 'base' ? attr(el, 'href')
      : attr(el, 'property')?.toLowerCase() === 'og:url' ? attr(el, 'content') : undefined;
    if (url !== undefined) urls.push(url);
  }
  const hosts = new Set<string>();
  for (const url of urls) {
    try {
      const parsed = new URL(url.trim());
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') hosts.add(parsed.hostname.toLowerCase().replace(/^www\./, ''));
    } catch {
      // Not an absolute URL (a relative <base>): says nothing of the host.
    }
  }
  return [...hosts].filter((h) => h.includes('.'));
}

function titleOf(doc: Node, styles: PageStyles): Element | undefined {
  return find(doc, (el) => el.tagName === 'title', styles)[0];
}

/**
 * Deepest nesting of elements handed to parse5 (DocumentLimits.maxHtmlNesting). Its tree construction
 * looks through the stack of open elements at each tag, so a hostile page of 100,000 nested <div>s
 * took 200 s of CPU; a real page nests a few dozen deep.
 */
export const MAX_HTML_NESTING = DEFAULT_DOCUMENT_LIMITS.maxHtmlNesting;
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// Closed by the next one of their kind (an unclosed <p> or <li> does not deepen the tree).
const IMPLIED_END = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'rb', 'rt', 'rp', 'thead', 'tbody', 'tfoot', 'colgroup', 'caption']);
// The name must end where the lookahead says: without it a name that never closes could be split
// between the name and the rest of the tag in every way (quadratic: 40,000 characters took 2 s).
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9-]*)(?![A-Za-z0-9-])[^<>]*>/g;
// Tags scanned between two calls of boundHtmlNesting's `check`.
const CHECK_EVERY_TAGS = 4096;

/**
 * The page with the tags that would nest deeper than `max` blanked out (each replaced by as many
 * spaces, so that offsets into the page stay true), with the end tags that match them: the text
 * stays, only structure below that depth is flattened. Counted on tags as written, an approximation
 * that can only blank more tags, never let a deeper tree through to parse5 than the count says.
 * `check` is called every few thousand tags (to stop a scan that has used up its time by throwing).
 */
export function boundHtmlNesting(html: string, max: number = MAX_HTML_NESTING, check?: () => void): string {
  let depth = 0;
  let blanked = 0;
  let out: string[] | undefined;
  let last = 0;
  let tags = 0;
  for (const m of html.matchAll(TAG)) {
    tags += 1;
    if (check !== undefined && tags % CHECK_EVERY_TAGS === 0) check();
    const name = (m[2] ?? '').toLowerCase();
    if (VOID_ELEMENTS.has(name) || IMPLIED_END.has(name) || m[0].endsWith('/>')) continue;
    const closing = m[1] === '/';
    let blank = false;
    if (closing) {
      if (blanked > 0) {
        blanked -= 1;
        blank = true;
      } else if (depth > 0) depth -= 1;
    } else if (depth >= max) {
      blanked += 1;
      blank = true;
    } else depth += 1;
    if (!blank) continue;
    out ??= [];
    out.push(html.slice(last, m.index), ' '.repeat(m[0].length));
    last = m.index + m[0].length;
  }
  if (out === undefined) return html;
  out.push(html.slice(last));
  return out.join('');
}

// Small enough that one piece costs little even where parse5 is quadratic (it checks each attribute
// of a tag against the ones before it), large enough that checking the clock costs nothing.
const PIECE_CHARS = 4 * 1024;

export interface HtmlReadOptions {
  /** Names the page in errors (a file name, or the e-mail it is the body of). */
  readonly name?: string;
  /** Only the HTML limits are used; DEFAULT_DOCUMENT_LIMITS for those not given. */
  readonly limits?: Partial<DocumentLimits>;
}

type HtmlLimits = Pick<DocumentLimits, 'maxHtmlNodes' | 'maxHtmlNesting' | 'maxHtmlCpuMs'>;

/** Parses `html` within `limits`; throws ENT_EXTRACT_LIMIT_EXCEEDED naming `name` and the limit. */
function parseBounded(html: string, name: string, limits: HtmlLimits): Document {
  const refuse = (what: string): EntenteError => new EntenteError('ENT_EXTRACT_LIMIT_EXCEEDED', `${name}: ${what}`, { file: name });
  let nodes = 0;
  const count = (): void => {
    nodes += 1;
    if (nodes > limits.maxHtmlNodes) {
      throw refuse(`the page would build more than ${limits.maxHtmlNodes} elements and comments; the page was abandoned`);
    }
  };
  const treeAdapter: TreeAdapter<DefaultTreeAdapterMap> = {
    ...defaultTreeAdapter,
    createElement(tagName, namespaceURI, attrs) {
      count();
      return defaultTreeAdapter.createElement(tagName, namespaceURI, attrs);
    },
    createCommentNode(data) {
      count();
      return defaultTreeAdapter.createCommentNode(data);
    },
  };
  // parse() writes the whole page at once; the parser's tokenizer also takes it in pieces, the way
  // parse5's own streaming parser feeds it (the source offsets run on across pieces).
  const parser = new Parser<DefaultTreeAdapterMap>({ sourceCodeLocationInfo: true, scriptingEnabled: false, treeAdapter });
  // The budget covers the scan for nesting too: on 64 MiB of tags it alone takes seconds.
  const started = process.cpuUsage();
  const checkTime = (): void => {
    const used = process.cpuUsage(started);
    if ((used.user + used.system) / 1000 > limits.maxHtmlCpuMs) {
      throw refuse(`parsing used more than ${limits.maxHtmlCpuMs} ms of CPU time; the page was abandoned`);
    }
  };
  const input = boundHtmlNesting(html, limits.maxHtmlNesting, checkTime);
  for (let at = 0; ; at += PIECE_CHARS) {
    const last = at + PIECE_CHARS >= input.length;
    parser.tokenizer.write(input.slice(at, at + PIECE_CHARS), last);
    if (last) break;
    checkTime();
  }
  return parser.document;
}

/**
 * Reads an HTML document (already decoded to a string). Throws ENT_EXTRACT_LIMIT_EXCEEDED, naming
 * `options.name` and the limit, for a page past an HTML limit.
 */
export function readHtml(html: string, options: HtmlReadOptions = {}): DocumentText {
  const limits = { ...DEFAULT_DOCUMENT_LIMITS, ...options.limits };
  const doc = parseBounded(html, options.name ?? 'the HTML page', limits);
  const styles = new PageStyles(doc);
  const reader = new HtmlText(styles);
  const title = titleOf(doc, styles);
  const roots = mainContent(doc, styles);
  const warnings: string[] = [];
  if (title !== undefined) {
    for (const c of title.childNodes) reader.walk(c);
    reader.out.breakLines(2);
  }
  for (const root of roots) {
    reader.walk(root);
    reader.out.breakLines(2);
  }
  const name = options.name ?? 'the HTML page';
  if (reader.hiddenElements > 0) {
    const byGuess = reader.hiddenByGuess === 0 ? '' : `, ${reader.hiddenByGuess} by a rule whose selector this reader cannot decide (counted as matching)`;
    const bySheet = reader.hiddenBySheet === 0 ? '' : `, ${reader.hiddenBySheet} of them by the page's style sheet${byGuess}`;
    warnings.push(
      `${name}: ${reader.hiddenElements} hidden element${reader.hiddenElements === 1 ? '' : 's'} (the hidden attribute, or a style that hides them: display:none, visibility:hidden, opacity:0, text of size zero or the colour of its background, moved off the screen or clipped; inline or in a <style> element${bySheet}) held ${reader.hiddenChars} characters of text a reader of the page does not see, starting "${sampleOf(reader.hiddenSample)}"; it was not read (check that the page shows no such text, e.g. a collapsed section)`,
    );
  }
  if (styles.truncated || styles.exhausted) {
    const why = styles.truncated ? `past the first ${MAX_STYLESHEET_CHARS / 1024} KiB of its style sheets` : `its style sheets' selectors were too costly to match against it in full`;
    warnings.push(`${name}: ${why}, style rules were not applied, so text they hide may have been read (check that the page shows each proposed value)`);
  }
  if (styles.external > 0) {
    // Nothing is fetched while a report is read (no request leaves for a partner's server), so a
    // rule in a linked style sheet can hide text that is read all the same.
    const n = styles.external;
    warnings.push(`${name}: ${n} external style sheet${n === 1 ? '' : 's'} (<link rel=stylesheet>, @import) ${n === 1 ? 'was' : 'were'} not fetched or applied, so text ${n === 1 ? 'it hides' : 'they hide'} may have been read (check that the page shows each proposed value)`);
  }
  if (reader.invisibleWords > 0) warnings.push(invisibleWarning(name, reader.invisibleWords, reader.invisibleSamples));
  // Apart from the text, never in it: the caller that extracts checks it (drafts/extract-document.ts).
  const chrome = chromeText(doc, roots, styles, MAX_CHROME_CHARS);
  const text = reader.out.toString();
  return {
    format: 'html',
    text: text.replace(/\n+$/, '\n'),
    segments: reader.out.segments,
    warnings,
    ...(chrome.text.trim() === '' ? {} : { chrome: [{ name, ...chrome, hosts: ownHosts(doc, styles) }] }),
  };
}
